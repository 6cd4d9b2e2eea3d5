import { Type } from "@sinclair/typebox";
import { notFound } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import { requireAdmin } from "../auth.js";
import type { ApiContext } from "../context.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { AnyObject, EventTypeName, NoQuery, Nullable, Strict } from "../schemas.js";
import { serializeEventType } from "../serializers.js";
import type { Api } from "../validation.js";

/**
 * The event-type catalog. `schema` is stored as given (a JSON Schema for the
 * payload; checking it is the OpenAPI/validation issue's job). Reads are open to
 * every principal (a portal needs the names to subscribe); writes are admin-only.
 */

const Description = Type.String({ maxLength: 4096 });
const Examples = Type.Array(Type.Unknown(), { maxItems: 20 });
const CreateBody = Strict({
  name: EventTypeName,
  description: Type.Optional(Description),
  schema: Type.Optional(Nullable(AnyObject)),
  examples: Type.Optional(Examples),
});
const PatchBody = Strict({
  description: Type.Optional(Description),
  schema: Type.Optional(Nullable(AnyObject)),
  examples: Type.Optional(Examples),
  archived: Type.Optional(Type.Boolean()),
});
const NameParams = Strict({ name: Type.String({ minLength: 1, maxLength: 256 }) });
const ListQuery = Strict({ ...PageQuery, includeArchived: Type.Optional(Type.Boolean()) });

export function eventTypeRoutes(api: Api, ctx: ApiContext): void {
  api.post("/event-types", { schema: { body: CreateBody, querystring: NoQuery } }, async (req, reply) => {
    requireAdmin(req);
    // A name already in the catalog answers 409 conflict (the store's unique index decides).
    const now = Date.now();
    const type = await ctx.store.createEventType({
      id: newId("evt", now),
      name: req.body.name,
      description: req.body.description ?? "",
      schema: req.body.schema ?? null,
      examples: req.body.examples ?? [],
      archived: false,
      createdAt: now,
      updatedAt: now,
    });
    return reply.code(201).send(serializeEventType(type));
  });

  api.get("/event-types", { schema: { querystring: ListQuery } }, async (req) => {
    const page = pageRequest(req.query, "evt");
    const types = await ctx.store.listEventTypes({ ...page, includeArchived: req.query.includeArchived ?? false });
    return pageOf(types, serializeEventType);
  });

  api.get("/event-types/:name", { schema: { params: NameParams, querystring: NoQuery } }, async (req) => {
    const type = await ctx.store.getEventType(req.params.name);
    if (!type) throw notFound("event type", req.params.name);
    return serializeEventType(type);
  });

  api.patch("/event-types/:name", { schema: { params: NameParams, body: PatchBody, querystring: NoQuery } }, async (req) => {
    requireAdmin(req);
    const type = await ctx.store.updateEventType(req.params.name, req.body, Date.now());
    if (!type) throw notFound("event type", req.params.name);
    return serializeEventType(type);
  });

  api.delete("/event-types/:name", { schema: { params: NameParams, querystring: NoQuery } }, async (req, reply) => {
    requireAdmin(req);
    if (!(await ctx.store.deleteEventType(req.params.name))) throw notFound("event type", req.params.name);
    return reply.code(204).send();
  });
}
