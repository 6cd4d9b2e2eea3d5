import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { notFound } from "../../core/errors.js";
import { type Asset, dashboardAssets } from "../../dashboard/assets.js";
import { SECURITY_HEADERS } from "../../dashboard/headers.js";

/**
 * The dashboard: `GET /` is the page, `GET /dashboard/<file>` its script, style
 * and icon files, all static and without auth. The page itself signs in with
 * the admin key and calls `/api/v1` from the browser; nothing here reads data.
 */
export function dashboardRoutes(app: FastifyInstance): void {
  const assets = dashboardAssets();
  const page = assets.get("index.html")!;

  const send = (req: FastifyRequest, reply: FastifyReply, asset: Asset) => {
    reply.headers(SECURITY_HEADERS).header("etag", asset.etag);
    if (req.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  };

  app.get("/", (req, reply) => send(req, reply, page));

  app.get<{ Params: { "*": string } }>("/dashboard/*", (req, reply) => {
    const name = req.params["*"];
    // The page is served at `/` only, so there is one address to bookmark.
    const asset = name === "index.html" ? undefined : assets.get(name);
    if (!asset) throw notFound("dashboard file", name);
    return send(req, reply, asset);
  });
}
