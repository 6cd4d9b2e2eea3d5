import { Type } from "@sinclair/typebox";
import type { FastifyInstance } from "fastify";
import type { ApiContext } from "../context.js";

/** How long `/readyz` waits for the store before calling it unready. */
const READY_TIMEOUT_MS = 2_000;

const Status = Type.Object({ status: Type.String() });
const tags = ["Operations"];

/** Liveness and readiness probes, outside `/api/v1` and without auth. */
export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get("/healthz", { schema: { summary: "Liveness: the process serves HTTP", tags, response: { 200: Status } } }, async () => ({ status: "ok" }));

  const readiness = { summary: "Readiness: the store answers a read within 2 s", tags, response: { 200: Status, 503: Status } };
  app.get("/readyz", { schema: readiness }, async (req, reply) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`store did not answer within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    });
    try {
      // Any read does: it proves the database is reachable and its schema is in place.
      await Promise.race([ctx.store.getSetting("readyz"), timeout]);
      return { status: "ok" };
    } catch (err) {
      req.log.warn({ err }, "readiness check failed");
      return reply.code(503).send({ status: "unavailable" });
    } finally {
      clearTimeout(timer);
    }
  });
}
