import { Type } from "@sinclair/typebox";
import type { EventCatalog } from "../../catalog/catalog.js";
import { notFound } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { ApiContext } from "../context.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { EventType, NoContent, Page } from "../responses.js";
import { AnyObject, EventTypeName, NoQuery, Nullable, Strict } from "../../core/schemas.js";
import { serializeEventType } from "../serializers.js";
import type { Api } from "../validation.js";

/**
 * The event-type catalog. `schema` must be a JSON Schema that compiles and every
 * example must match it (422 otherwise); publishes of the type are then checked
 * against it. Reads are open to every principal (a portal needs the names to
 * subscribe); writes are admin-only.
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

const tags = ["Event types"];
const adminOnly = { adminOnly: true };

export function eventTypeRoutes(api: Api, ctx: ApiContext & { catalog: EventCatalog }): void {
  const { catalog } = ctx;

  api.post(
    "/event-types",
    { config: adminOnly, schema: { summary: "Add an event type to the catalog", tags, body: CreateBody, querystring: NoQuery, response: { 201: EventType } } },
    async (req, reply) => {
      const schema = req.body.schema ?? null;
      const examples = req.body.examples ?? [];
      catalog.check(schema, examples);
      // A name already in the catalog answers 409 conflict (the store's unique index decides).
      const now = Date.now();
      const type = await ctx.store.createEventType({
        id: newId("evt", now),
        name: req.body.name,
        description: req.body.description ?? "",
        schema,
        examples,
        archived: false,
        createdAt: now,
        updatedAt: now,
      });
      catalog.invalidate(type.name);
      return reply.code(201).send(serializeEventType(type));
    },
  );

  api.get(
    "/event-types",
    { schema: { summary: "List the event catalog", tags, querystring: ListQuery, response: { 200: Page(EventType) } } },
    async (req) => {
      const page = pageRequest(req.query, "evt");
      const types = await ctx.store.listEventTypes({ ...page, includeArchived: req.query.includeArchived ?? false });
      return pageOf(types, serializeEventType);
    },
  );

  api.get(
    "/event-types/:name",
    { schema: { summary: "Get an event type", tags, params: NameParams, querystring: NoQuery, response: { 200: EventType } } },
    async (req) => {
      const type = await ctx.store.getEventType(req.params.name);
      if (!type) throw notFound("event type", req.params.name);
      return serializeEventType(type);
    },
  );

  api.patch(
    "/event-types/:name",
    {
      config: adminOnly,
      schema: {
        summary: "Change or archive an event type",
        description: "`archived: true` hides the type from the default list and marks it deprecated in the OpenAPI document; its messages are still accepted.",
        tags,
        params: NameParams,
        body: PatchBody,
        querystring: NoQuery,
        response: { 200: EventType },
      },
    },
    async (req) => {
      const current = await ctx.store.getEventType(req.params.name);
      if (!current) throw notFound("event type", req.params.name);
      // A new schema must accept the kept examples; new examples must match the kept schema.
      if (req.body.schema !== undefined || req.body.examples !== undefined) {
        catalog.check(req.body.schema === undefined ? current.schema : req.body.schema, req.body.examples ?? current.examples);
      }
      const type = await ctx.store.updateEventType(req.params.name, req.body, Date.now());
      catalog.invalidate(req.params.name);
      if (!type) throw notFound("event type", req.params.name);
      return serializeEventType(type);
    },
  );

  api.delete(
    "/event-types/:name",
    {
      config: adminOnly,
      schema: { summary: "Remove an event type from the catalog", tags, params: NameParams, querystring: NoQuery, response: { 204: NoContent } },
    },
    async (req, reply) => {
      const deleted = await ctx.store.deleteEventType(req.params.name);
      catalog.invalidate(req.params.name);
      if (!deleted) throw notFound("event type", req.params.name);
      return reply.code(204).send();
    },
  );
}
