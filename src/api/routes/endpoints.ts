import { EndpointWrites } from "../../service/endpoints.js";
import type { ApiContext } from "../context.js";
import { EndpointCreateBody, EndpointPatchBody } from "../../service/endpoint-input.js";
import { findApp, findEndpoint } from "../lookup.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { Endpoint, NoContent, Page } from "../responses.js";
import { AppParams, EndpointParams, NoQuery, Strict } from "../../core/schemas.js";
import { serializeEndpoint } from "../serializers.js";
import type { Api } from "../validation.js";

const tags = ["Endpoints"];

export function endpointRoutes(api: Api, ctx: ApiContext): void {
  // Checks, store writes and operational events: shared with the library (src/service/endpoints.ts).
  const writes = new EndpointWrites(ctx);
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
      const endpoint = await writes.create(app, req.body);
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
        description:
          "Only the fields sent are written (a concurrent status change is kept). `disabled: true|false` then acts like the disable/enable actions.",
        tags,
        params: EndpointParams,
        body: EndpointPatchBody,
        querystring: NoQuery,
        response: { 200: Endpoint },
      },
    },
    async (req) => {
      const app = await findApp(ctx, req, req.params.app);
      return serializeEndpoint(await writes.update(app, req.params.ep, req.body));
    },
  );

  api.delete(
    "/applications/:app/endpoints/:ep",
    {
      schema: { summary: "Delete an endpoint with its deliveries and attempts", tags, params: EndpointParams, querystring: NoQuery, response: { 204: NoContent } },
    },
    async (req, reply) => {
      const app = await findApp(ctx, req, req.params.app);
      await writes.delete(app, req.params.ep);
      return reply.code(204).send();
    },
  );
}
