import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { notFound } from "../../core/errors.js";
import type { PortalSettings } from "../../store/model.js";
import type { ApiContext } from "../context.js";
import { type PortalAsset, portalAssets } from "../portal/assets.js";
import { portalCsp } from "../portal/csp.js";

/**
 * The consumer portal (`/portal?app=<id>`, opened by a portal token's `url`)
 * and its scripts and style (`/portal/<file>`), static and without auth: the
 * page calls `/api/v1` with the token from its URL fragment.
 *
 * `?app=` names the application only so that the page's CSP can carry its
 * `frame-ancestors` and logo origin (the token, in the fragment, never reaches
 * the server). The page shows nothing unless the token is valid and for that
 * same application. Without `?app=` (or for an unknown one) the page cannot be
 * framed.
 */
export function portalPageRoutes(app: FastifyInstance, ctx: Pick<ApiContext, "store">): void {
  const send = (req: FastifyRequest, reply: FastifyReply, asset: PortalAsset, settings: PortalSettings | null | undefined) => {
    // A 304 carries the CSP too, and replaces the cached one: a changed allow-list applies at the next load.
    reply.header("content-security-policy", portalCsp(settings)).header("cache-control", "no-cache").header("etag", asset.etag);
    if (req.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.type(asset.contentType).send(asset.body);
  };

  app.get<{ Querystring: { app?: unknown } }>(
    "/portal",
    {
      schema: { hide: true },
      // When framing is allowed, X-Frame-Options (a default on every response) must go: it knows no allow-list.
      onSend: (_req, reply, payload, done) => {
        if (!String(reply.getHeader("content-security-policy")).includes("frame-ancestors 'none'")) reply.removeHeader("x-frame-options");
        done(null, payload);
      },
    },
    async (req, reply) => {
      const ref = typeof req.query.app === "string" && req.query.app.length <= 256 ? req.query.app : null;
      const application = ref ? await ctx.store.getApplication(ref) : null;
      return send(req, reply, portalAssets().get("index.html")!, application?.portal);
    },
  );

  app.get<{ Params: { "*": string } }>("/portal/*", { schema: { hide: true } }, (req, reply) => {
    const name = req.params["*"];
    const asset = name === "index.html" ? undefined : portalAssets().get(name);
    if (!asset) throw notFound("portal file", name);
    return send(req, reply, asset, null);
  });
}
