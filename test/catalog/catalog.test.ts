import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventCatalog } from "../../src/catalog/catalog.js";
import { MAX_REPORTED_ERRORS } from "../../src/catalog/schema.js";
import { HeraldError } from "../../src/core/errors.js";
import { openApi, type TestApi } from "../api/helpers.js";
import { openTestHerald } from "../helpers/herald.js";

/** The event catalog: schemas that must compile, examples that must match, payloads checked on publish. */

const ORDER_SCHEMA = {
  type: "object",
  required: ["id", "data"],
  properties: {
    id: { type: "string" },
    data: {
      type: "object",
      required: ["amount", "currency"],
      properties: { amount: { type: "integer", minimum: 0 }, currency: { enum: ["EUR", "USD"] }, email: { type: "string", format: "email" } },
      additionalProperties: false,
    },
  },
};
const ORDER_EXAMPLE = { id: "ord_1", data: { amount: 1200, currency: "EUR" } };

let t: TestApi;
const publish = (eventType: string, payload: unknown) => t.call("POST", "/api/v1/applications/shop/messages", { eventType, payload });

beforeAll(async () => {
  t = await openApi();
  await t.call("POST", "/api/v1/applications", { name: "shop", uid: "shop" });
});
afterAll(() => t.close());

describe("event types", () => {
  it("are stored with description, schema and examples", async () => {
    const res = await t.call("POST", "/api/v1/event-types", { name: "order.created", description: "An order was placed", schema: ORDER_SCHEMA, examples: [ORDER_EXAMPLE] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: "order.created", description: "An order was placed", schema: ORDER_SCHEMA, examples: [ORDER_EXAMPLE], archived: false });
  });

  it("refuse a schema that is not valid JSON Schema, naming where", async () => {
    const bad = await t.call("POST", "/api/v1/event-types", { name: "bad.one", schema: { type: "objekt", properties: { a: { minimum: "zero" } } } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe("validation_failed");
    const paths = bad.body.errors.map((e: { path: string }) => e.path);
    expect(paths.some((p: string) => p.startsWith("/schema/type"))).toBe(true);
    expect(paths.some((p: string) => p.startsWith("/schema/properties/a/minimum"))).toBe(true);
    const unresolvable = await t.call("POST", "/api/v1/event-types", { name: "bad.two", schema: { $ref: "#/$defs/missing" } });
    expect(unresolvable.status).toBe(422);
    expect(unresolvable.body.errors[0]).toMatchObject({ path: "/schema", message: expect.stringContaining("cannot be compiled") });
    const dialect = await t.call("POST", "/api/v1/event-types", { name: "bad.three", schema: { $schema: "http://json-schema.org/draft-04/schema#" } });
    expect(dialect.body.errors[0].path).toBe("/schema/$schema");
    expect((await t.call("GET", "/api/v1/event-types/bad.one")).status).toBe(404);
  });

  it("refuse examples that do not match the schema, one error per violation", async () => {
    const res = await t.call("POST", "/api/v1/event-types", {
      name: "order.refunded",
      schema: ORDER_SCHEMA,
      examples: [ORDER_EXAMPLE, { id: 7, data: { amount: -1, currency: "GBP", extra: true } }],
    });
    expect(res.status).toBe(422);
    const expected = [
      { path: "/examples/1/id", message: "must be string" },
      { path: "/examples/1/data/amount", message: "must be >= 0" },
      { path: "/examples/1/data/currency", message: "must be one of: EUR, USD" },
      { path: "/examples/1/data/extra", message: "is not a known field" },
    ];
    expect(res.body.errors).toHaveLength(expected.length);
    expect(res.body.errors).toEqual(expect.arrayContaining(expected));
  });

  it("check a changed schema against the kept examples, and new examples against the kept schema", async () => {
    const stricter = { ...ORDER_SCHEMA, required: ["id", "data", "customer"] };
    const patch = await t.call("PATCH", "/api/v1/event-types/order.created", { schema: stricter });
    expect(patch.status).toBe(422);
    expect(patch.body.errors[0]).toEqual({ path: "/examples/0/customer", message: "is required" });
    const examples = await t.call("PATCH", "/api/v1/event-types/order.created", { examples: [{ id: "x" }] });
    expect(examples.body.errors[0]).toEqual({ path: "/examples/0/data", message: "is required" });
    expect((await t.call("GET", "/api/v1/event-types/order.created")).body.schema).toEqual(ORDER_SCHEMA);
  });

  it("accept draft-07 schemas with definitions, and keywords JSON Schema does not know", async () => {
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      definitions: { money: { type: "integer" } },
      type: "object",
      properties: { total: { $ref: "#/definitions/money" } },
      example: { total: 1 },
      "x-owner": "billing",
    };
    expect((await t.call("POST", "/api/v1/event-types", { name: "invoice.paid", schema, examples: [{ total: 5 }] })).status).toBe(201);
    const bad = await publish("invoice.paid", { total: "5" });
    expect(bad.body.errors).toEqual([{ path: "/payload/total", message: "must be integer" }]);
  });
});

describe("publishing a typed event", () => {
  it("accepts a payload that matches", async () => {
    expect((await publish("order.created", ORDER_EXAMPLE)).status).toBe(202);
  });

  it("answers 422 listing each violation, with paths into the payload", async () => {
    const res = await publish("order.created", { id: 1, data: { amount: 1.5, currency: "GBP", email: "nope" } });
    expect(res.status).toBe(422);
    expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe("validation_failed");
    const expected = [
      { path: "/payload/id", message: "must be string" },
      { path: "/payload/data/amount", message: "must be integer" },
      { path: "/payload/data/currency", message: "must be one of: EUR, USD" },
      { path: "/payload/data/email", message: 'must match format "email"' },
    ];
    expect(res.body.errors).toHaveLength(expected.length);
    expect(res.body.errors).toEqual(expect.arrayContaining(expected));
    expect(res.body.detail).toContain("order.created");
    const messages = await t.call("GET", "/api/v1/applications/shop/messages?eventType=order.created");
    expect(messages.body.data).toHaveLength(1);
  });

  it("caps the list of violations of a huge payload", async () => {
    await t.call("POST", "/api/v1/event-types", { name: "batch.done", schema: { type: "object", properties: { items: { type: "array", items: { type: "string" } } } } });
    const res = await publish("batch.done", { items: Array.from({ length: 500 }, (_, i) => i) });
    expect(res.status).toBe(422);
    expect(res.body.errors).toHaveLength(MAX_REPORTED_ERRORS);
  });

  it("accepts any payload for types not in the catalog, or without a schema", async () => {
    expect((await publish("not.in.catalog", { anything: true })).status).toBe(202);
    await t.call("POST", "/api/v1/event-types", { name: "untyped.thing", description: "no schema" });
    expect((await publish("untyped.thing", { anything: true })).status).toBe(202);
  });

  it("applies a changed schema at once, and still checks archived types", async () => {
    const schema = { type: "object", required: ["v2"] };
    await t.call("POST", "/api/v1/event-types", { name: "user.changed", schema: { type: "object" } });
    expect((await publish("user.changed", { v1: true })).status).toBe(202);
    expect((await t.call("PATCH", "/api/v1/event-types/user.changed", { schema })).status).toBe(200);
    expect((await publish("user.changed", { v1: true })).status).toBe(422);
    expect((await t.call("PATCH", "/api/v1/event-types/user.changed", { archived: true })).body.archived).toBe(true);
    expect((await publish("user.changed", { v2: true })).status).toBe(202);
    expect((await publish("user.changed", { v1: true })).status).toBe(422);
    expect((await t.call("DELETE", "/api/v1/event-types/user.changed")).status).toBe(204);
    expect((await publish("user.changed", { v1: true })).status).toBe(202);
  });

  it("does not check the endpoint test action against the catalog", async () => {
    const ep = await t.call("POST", "/api/v1/applications/shop/endpoints", { url: "https://example.com/" });
    const res = await t.call("POST", `/api/v1/applications/shop/endpoints/${ep.body.id}/test`, { eventType: "order.created" });
    expect(res.status).toBe(202);
  });
});

describe("the catalog cache", () => {
  it("compiles once, and sees another process's change after its TTL", async () => {
    const catalog = new EventCatalog(t.store, { ttlMs: 50 });
    await t.call("POST", "/api/v1/event-types", { name: "ttl.check", schema: { type: "object", required: ["a"] } });
    const first = await catalog.validator("ttl.check");
    expect(await catalog.validator("ttl.check")).not.toBeNull();
    expect(() => first!({})).toThrow(HeraldError);
    // Another process changes the type (here: straight through the store).
    await t.store.updateEventType("ttl.check", { schema: { type: "object", required: ["b"] } }, Date.now() + 1);
    await expect(catalog.validatePayload("ttl.check", { a: 1 })).resolves.toBeUndefined();
    await new Promise((r) => setTimeout(r, 60));
    await expect(catalog.validatePayload("ttl.check", { a: 1 })).rejects.toMatchObject({ code: "validation_failed", errors: [{ path: "/payload/b", message: "is required" }] });
  });

  it("stays bounded however many names are published", async () => {
    const catalog = new EventCatalog(t.store, { maxEntries: 20 });
    for (let i = 0; i < 200; i++) await catalog.validatePayload(`random.${i}`, {});
    expect((catalog as unknown as { entries: Map<string, unknown> }).entries.size).toBeLessThanOrEqual(20);
  });
});

describe("the library", () => {
  it("checks publishes of typed events the same way", async () => {
    const { herald, close } = await openTestHerald();
    try {
      await herald.store.createEventType({
        id: "evt_01ARZ3NDEKTSV4RRFFQ69G5FAV",
        name: "pet.adopted",
        description: "",
        schema: { type: "object", required: ["petId"] },
        examples: [],
        archived: false,
        createdAt: Date.now(),
        updatedAt: Date.now(),
      });
      const app = await herald.createApplication({ name: "pets", uid: "pets" });
      await expect(herald.publish({ app: "pets", eventType: "pet.adopted", payload: {} })).rejects.toMatchObject({ code: "validation_failed" });
      await expect(herald.publish({ app: "pets", eventType: "pet.adopted", payload: '{"x":1}' })).rejects.toMatchObject({ code: "validation_failed" });
      await expect(herald.publish({ appId: app.id, eventType: "pet.adopted", payload: "{}", channels: null, eventId: null })).rejects.toMatchObject({
        code: "validation_failed",
      });
      expect((await herald.publish({ app: "pets", eventType: "pet.adopted", payload: { petId: "p1" } })).created).toBe(true);
    } finally {
      await close();
    }
  });
});
