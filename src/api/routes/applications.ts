import { Type } from "@sinclair/typebox";
import { notFound } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { ApiContext } from "../context.js";
import { findApp } from "../lookup.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { Application, NoContent, Page } from "../responses.js";
import { AppParams, Metadata, NoQuery, Nullable, Strict } from "../../core/schemas.js";
import { serializeApplication } from "../serializers.js";
import { checkPortalSettings, PortalSettings } from "../portal/settings.js";
import type { Api } from "../validation.js";

const Name = Type.String({ minLength: 1, maxLength: 256 });
/** Not `app_…`, so a path's `{app}` is never ambiguous between an id and a uid. */
const Uid = Type.String({
  pattern: "^(?!app_)[A-Za-z0-9_.-]{1,256}$",
  description: "a uid: 1–256 characters from A–Z, a–z, 0–9, '_', '.', '-', not starting with app_",
});
/** The consumer portal's theme and embedding (docs/portal.md); null resets it. */
const Portal = Type.Optional(Nullable(PortalSettings));
const CreateBody = Strict({ name: Name, uid: Type.Optional(Uid), metadata: Type.Optional(Metadata), portal: Portal });
// A uid already taken answers 409 conflict (the store's unique index decides, race-free).
const PatchBody = Strict({ name: Type.Optional(Name), uid: Type.Optional(Nullable(Uid)), metadata: Type.Optional(Metadata), portal: Portal });

const tags = ["Applications"];
const adminOnly = { adminOnly: true };

export function applicationRoutes(api: Api, ctx: ApiContext): void {
  api.post(
    "/applications",
    { config: adminOnly, schema: { summary: "Create an application", tags, body: CreateBody, querystring: NoQuery, response: { 201: Application } } },
    async (req, reply) => {
      const now = Date.now();
      const app = await ctx.store.createApplication({
        id: newId("app", now),
        name: req.body.name,
        uid: req.body.uid ?? null,
        metadata: req.body.metadata ?? {},
        portal: checkPortalSettings(req.body.portal, "/portal") ?? null,
        createdAt: now,
        updatedAt: now,
      });
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
    { config: adminOnly, schema: { summary: "Change an application", tags, params: AppParams, body: PatchBody, querystring: NoQuery, response: { 200: Application } } },
    async (req) => {
      const app = await findApp(ctx, req, req.params.app);
      const portal = checkPortalSettings(req.body.portal, "/portal");
      const updated = await ctx.store.updateApplication(app.id, { ...req.body, ...(portal === undefined ? {} : { portal }) }, Date.now());
      if (!updated) throw notFound("application", req.params.app);
      return serializeApplication(updated);
    },
  );

  api.delete(
    "/applications/:app",
    {
      config: adminOnly,
      schema: { summary: "Delete an application with its endpoints, messages and attempts", tags, params: AppParams, querystring: NoQuery, response: { 204: NoContent } },
    },
    async (req, reply) => {
      const app = await findApp(ctx, req, req.params.app);
      await ctx.store.deleteApplication(app.id);
      return reply.code(204).send();
    },
  );
}
