import type { ApiContext } from "../context.js";
import { findApp } from "../lookup.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { Application, NoContent, Page } from "../responses.js";
import { AppParams, NoQuery, Strict } from "../../core/schemas.js";
import { serializeApplication } from "../serializers.js";
import { ApplicationCreateBody, ApplicationPatchBody, ApplicationWrites } from "../../service/applications.js";
import type { Api } from "../validation.js";

const tags = ["Applications"];
const adminOnly = { adminOnly: true };

export function applicationRoutes(api: Api, ctx: ApiContext): void {
  const writes = new ApplicationWrites(ctx.store);
  api.post(
    "/applications",
    { config: adminOnly, schema: { summary: "Create an application", tags, body: ApplicationCreateBody, querystring: NoQuery, response: { 201: Application } } },
    async (req, reply) => {
      const app = await writes.create(req.body);
      return reply.code(201).send(serializeApplication(app));
    },
  );

  api.get(
    "/applications",
    { config: adminOnly, schema: { summary: "List applications", tags, querystring: Strict(PageQuery), response: { 200: Page(Application) } } },
    async (req) => pageOf(await ctx.store.listApplications(pageRequest(req.query, "app")), serializeApplication),
  );

  api.get(
    "/applications/:app",
    { schema: { summary: "Get an application", tags, params: AppParams, querystring: NoQuery, response: { 200: Application } } },
    async (req) => serializeApplication(await findApp(ctx, req, req.params.app)),
  );

  api.patch(
    "/applications/:app",
    { config: adminOnly, schema: { summary: "Change an application", tags, params: AppParams, body: ApplicationPatchBody, querystring: NoQuery, response: { 200: Application } } },
    async (req) => serializeApplication(await writes.update(await findApp(ctx, req, req.params.app), req.body)),
  );

  api.delete(
    "/applications/:app",
    {
      config: adminOnly,
      schema: { summary: "Delete an application with its endpoints, messages and attempts", tags, params: AppParams, querystring: NoQuery, response: { 204: NoContent } },
    },
    async (req, reply) => {
      await writes.delete(await findApp(ctx, req, req.params.app));
      return reply.code(204).send();
    },
  );
}
