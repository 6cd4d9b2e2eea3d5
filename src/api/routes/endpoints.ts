import { HeraldError, notFound } from "../../core/errors.js";
import type { ApiContext } from "../context.js";
import { EndpointCreateBody, EndpointPatchBody, endpointPatch, newEndpoint } from "../endpoint-input.js";
import { findApp, findEndpoint } from "../lookup.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { Endpoint, NoContent, Page } from "../responses.js";
import { AppParams, EndpointParams, NoQuery, Strict } from "../schemas.js";
import { serializeEndpoint } from "../serializers.js";
import type { Api } from "../validation.js";

/** Runs the SSRF guard (when the server has one) on every URL an endpoint will call. */
async function guard(ctx: ApiContext, fields: { url?: string | undefined; authentication?: { type: string; tokenUrl?: string } | null | undefined }): Promise<void> {
  if (!ctx.checkUrl) return;
  const targets: [string, string | undefined][] = [
    ["/url", fields.url],
    ["/authentication/tokenUrl", fields.authentication?.tokenUrl],
  ];
  for (const [path, url] of targets) {
    const problem = url === undefined ? undefined : await ctx.checkUrl(url);
    if (problem) throw new HeraldError("validation_failed", `${path}: ${problem}`, [{ path, message: problem }]);
  }
}

const tags = ["Endpoints"];

export function endpointRoutes(api: Api, ctx: ApiContext): void {
  api.post(
    "/applications/:app/endpoints",
    {
      schema: {
        summary: "Create an endpoint",
        description: "The response shows the signing secret in full; later reads mask it (`GET …/secret` returns it).",
        tags,
        params: AppParams,
        body: EndpointCreateBody,
        querystring: NoQuery,
        response: { 201: Endpoint },
      },
    },
    async (req, reply) => {
      const app = await findApp(ctx, req, req.params.app);
      const row = newEndpoint(app.id, req.body, Date.now());
      await guard(ctx, row);
      const endpoint = await ctx.store.createEndpoint(row);
      await ctx.ops?.endpoint("endpoint.created", app, endpoint);
      // The one response that shows the new secret in full (later: GET …/secret).
      return reply.code(201).send(serializeEndpoint(endpoint, true));
    },
  );

  api.get(
    "/applications/:app/endpoints",
    { schema: { summary: "List endpoints", tags, params: AppParams, querystring: Strict(PageQuery), response: { 200: Page(Endpoint) } } },
    async (req) => {
      const app = await findApp(ctx, req, req.params.app);
      return pageOf(await ctx.store.listEndpoints(app.id, pageRequest(req.query, "ep")), (ep) => serializeEndpoint(ep));
    },
  );

  api.get(
    "/applications/:app/endpoints/:ep",
    { schema: { summary: "Get an endpoint", tags, params: EndpointParams, querystring: NoQuery, response: { 200: Endpoint } } },
    async (req) => {
      const { endpoint } = await findEndpoint(ctx, req, req.params);
      return serializeEndpoint(endpoint);
    },
  );

  api.patch(
    "/applications/:app/endpoints/:ep",
    {
      schema: {
        summary: "Change an endpoint",
        description: "Only the fields sent change. `disabled: true|false` acts like the disable/enable actions.",
        tags,
        params: EndpointParams,
        body: EndpointPatchBody,
        querystring: NoQuery,
        response: { 200: Endpoint },
      },
    },
    async (req) => {
      const { app, endpoint } = await findEndpoint(ctx, req, req.params);
      const patch = endpointPatch(endpoint, req.body);
      if (Object.keys(patch).length === 0) return serializeEndpoint(endpoint);
      await guard(ctx, patch);
      const updated = await ctx.store.updateEndpoint(app.id, endpoint.id, patch, Date.now());
      if (!updated) throw notFound("endpoint", endpoint.id);
      await ctx.ops?.endpoint("endpoint.updated", app, updated);
      if (updated.status !== endpoint.status) {
        await ctx.ops?.endpoint(updated.status === "active" ? "endpoint.enabled" : "endpoint.disabled", app, updated, "manual");
      }
      return serializeEndpoint(updated);
    },
  );

  api.delete(
    "/applications/:app/endpoints/:ep",
    {
      schema: { summary: "Delete an endpoint with its deliveries and attempts", tags, params: EndpointParams, querystring: NoQuery, response: { 204: NoContent } },
    },
    async (req, reply) => {
      const { app, endpoint } = await findEndpoint(ctx, req, req.params);
      if (!(await ctx.store.deleteEndpoint(app.id, endpoint.id))) throw notFound("endpoint", endpoint.id);
      await ctx.ops?.endpoint("endpoint.deleted", app, endpoint);
      return reply.code(204).send();
    },
  );
}
