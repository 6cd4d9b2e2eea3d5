import { Type } from "@sinclair/typebox";
import { notFound } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { requireAdmin } from "../auth.js";
import type { ApiContext } from "../context.js";
import { findApp } from "../lookup.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { AppParams, Metadata, NoQuery, Nullable, Strict } from "../schemas.js";
import { serializeApplication } from "../serializers.js";
import type { Api } from "../validation.js";

const Name = Type.String({ minLength: 1, maxLength: 256 });
/** Not `app_…`, so a path's `{app}` is never ambiguous between an id and a uid. */
const Uid = Type.String({
  pattern: "^(?!app_)[A-Za-z0-9_.-]{1,256}$",
  description: "a uid: 1–256 characters from A–Z, a–z, 0–9, '_', '.', '-', not starting with app_",
});
const CreateBody = Strict({ name: Name, uid: Type.Optional(Uid), metadata: Type.Optional(Metadata) });
// A uid already taken answers 409 conflict (the store's unique index decides, race-free).
const PatchBody = Strict({ name: Type.Optional(Name), uid: Type.Optional(Nullable(Uid)), metadata: Type.Optional(Metadata) });

export function applicationRoutes(api: Api, ctx: ApiContext): void {
  api.post("/applications", { schema: { body: CreateBody, querystring: NoQuery } }, async (req, reply) => {
    requireAdmin(req);
    const now = Date.now();
    const app = await ctx.store.createApplication({
      id: newId("app", now),
      name: req.body.name,
      uid: req.body.uid ?? null,
      metadata: req.body.metadata ?? {},
      createdAt: now,
      updatedAt: now,
    });
    return reply.code(201).send(serializeApplication(app));
  });

  api.get("/applications", { schema: { querystring: Strict(PageQuery) } }, async (req) => {
    requireAdmin(req);
    return pageOf(await ctx.store.listApplications(pageRequest(req.query, "app")), serializeApplication);
  });

  api.get("/applications/:app", { schema: { params: AppParams, querystring: NoQuery } }, async (req) => {
    return serializeApplication(await findApp(ctx, req, req.params.app));
  });

  api.patch("/applications/:app", { schema: { params: AppParams, body: PatchBody, querystring: NoQuery } }, async (req) => {
    requireAdmin(req);
    const app = await findApp(ctx, req, req.params.app);
    const updated = await ctx.store.updateApplication(app.id, req.body, Date.now());
    if (!updated) throw notFound("application", req.params.app);
    return serializeApplication(updated);
  });

  api.delete("/applications/:app", { schema: { params: AppParams, querystring: NoQuery } }, async (req, reply) => {
    requireAdmin(req);
    const app = await findApp(ctx, req, req.params.app);
    await ctx.store.deleteApplication(app.id);
    return reply.code(204).send();
  });
}
