import { Type } from "@sinclair/typebox";
import type { FastifyRequest } from "fastify";
import type { ApiContext } from "../context.js";
import { findApp } from "../lookup.js";
import { DEFAULT_PORTAL_TOKEN_TTL_S, MAX_PORTAL_TOKEN_TTL_S, type PortalTokens } from "../portal-tokens.js";
import { NoContent, PortalToken } from "../responses.js";
import { AppParams, EmptyBody, NoQuery, optionalBody, Strict } from "../../core/schemas.js";
import type { Api } from "../validation.js";

const Body = Strict({
  expiresIn: Type.Optional(
    Type.Integer({ minimum: 60, maximum: MAX_PORTAL_TOKEN_TTL_S, description: `lifetime in seconds (default ${DEFAULT_PORTAL_TOKEN_TTL_S}: 24 h; at most 30 days)` }),
  ),
});

/** Where people reach this server: `HERALD_PUBLIC_URL`, else the request's own scheme and Host. */
function publicBase(ctx: ApiContext, req: FastifyRequest): string {
  return ctx.config.publicUrl ?? `${req.protocol}://${req.host}`;
}

export function portalTokenRoutes(api: Api, ctx: ApiContext, tokens: PortalTokens): void {
  api.post(
    "/applications/:app/portal-token",
    {
      config: { adminOnly: true },
      preValidation: optionalBody,
      schema: {
        summary: "Issue a consumer-portal token for one application",
        description:
          "The token is a bearer token that sees and changes only this application's endpoints, messages and attempts " +
          "(other applications answer 404, admin-only routes 403). `url` opens the consumer portal with it.",
        tags: ["Portal"],
        params: AppParams,
        body: Body,
        querystring: NoQuery,
        response: { 201: PortalToken },
      },
    },
    async (req, reply) => {
      const app = await findApp(ctx, req, req.params.app);
      const expiresAt = (Math.floor(Date.now() / 1000) + (req.body.expiresIn ?? DEFAULT_PORTAL_TOKEN_TTL_S)) * 1000;
      const token = await tokens.issue(app.id, expiresAt);
      // The token travels in the fragment: browsers never send it to a server or put it in a Referer.
      // `?app=` lets the page's CSP carry the application's frame-ancestors (docs/portal.md).
      const url = `${publicBase(ctx, req)}/portal?app=${app.id}#token=${token}`;
      return reply.code(201).send({ token, url, expiresAt: new Date(expiresAt).toISOString() });
    },
  );

  api.post(
    "/applications/:app/portal-token/expire-all",
    {
      config: { adminOnly: true },
      preValidation: optionalBody,
      schema: {
        summary: "Expire every consumer-portal token of one application",
        description:
          "Every portal token issued for this application until now stops working (401), in this process at once and in the " +
          "others that share the database within a second: a link that leaked, a customer who should no longer get in. " +
          "Tokens issued afterwards work; other applications' tokens are untouched.",
        tags: ["Portal"],
        params: AppParams,
        body: EmptyBody,
        querystring: NoQuery,
        response: { 204: NoContent },
      },
    },
    async (req, reply) => {
      const app = await findApp(ctx, req, req.params.app);
      await tokens.expireAll(app.id);
      return reply.code(204).send();
    },
  );
}
