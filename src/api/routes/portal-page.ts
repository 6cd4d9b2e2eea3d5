import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { notFound } from "../../core/errors.js";
import { PORTAL_CSP, type PortalAsset, portalAssets } from "../portal/assets.js";

/**
 * The consumer portal (`/portal`, opened by a portal token's `url`) and its
 * script and style (`/portal/<file>`), static and without auth: the page calls
 * `/api/v1` with the token from its URL fragment.
 */
export function portalPageRoutes(app: FastifyInstance): void {
  const send = (req: FastifyRequest, reply: FastifyReply, asset: PortalAsset) => {
    reply.header("content-security-policy", PORTAL_CSP).header("cache-control", "no-cache").header("etag", asset.etag);
    if (req.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  };

  app.get("/portal", { schema: { hide: true } }, (req, reply) => send(req, reply, portalAssets().get("index.html")!));

  app.get<{ Params: { file: string } }>("/portal/:file", { schema: { hide: true } }, (req, reply) => {
    const asset = req.params.file === "index.html" ? undefined : portalAssets().get(req.params.file);
    if (!asset) throw notFound("portal file", req.params.file);
    return send(req, reply, asset);
  });
}
