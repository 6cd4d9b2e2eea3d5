import type { FastifyInstance } from "fastify";
import type { HeraldMetrics } from "../../observability/metrics.js";
import type { ApiContext } from "../context.js";

/**
 * `GET /metrics`: Prometheus text format (0.0.4) from `prom-client`, without
 * auth (like `/healthz`; docs/observability.md says not to expose it publicly).
 * The figures are the Herald's own `HeraldMetrics` (attempts and publishes
 * counted as they happen, queue gauges read from the store at scrape time with
 * two cheap queries) plus prom-client's process metrics.
 *
 * Also adds an `onResponse` hook on `app` that counts the responses this
 * server sends: register it before the other routes' plugins so the hook
 * reaches them.
 */
export function metricsRoutes(app: FastifyInstance, ctx: ApiContext & { metrics: HeraldMetrics }): void {
  const { metrics } = ctx;
  app.addHook("onResponse", async (req, reply) => {
    metrics.response(req.method, reply.statusCode);
  });

  app.get("/metrics", async (_req, reply) => {
    const { contentType, text } = await metrics.scrape();
    return reply.type(contentType).send(text);
  });
}
