import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApi, type TestApi } from "./helpers.js";

let t: TestApi;
beforeAll(async () => {
  t = await openApi();
});
afterAll(() => t.close());

describe("event types", () => {
  const schema = { type: "object", properties: { petId: { type: "string" } }, required: ["petId"] };

  it("creates, reads, changes, archives and deletes an event type", async () => {
    const created = await t.call("POST", "/api/v1/event-types", { name: "pet.adopted", description: "A pet was adopted", schema, examples: [{ petId: "p1" }] });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^evt_/),
      name: "pet.adopted",
      description: "A pet was adopted",
      schema,
      examples: [{ petId: "p1" }],
      archived: false,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    expect((await t.call("GET", "/api/v1/event-types/pet.adopted")).body).toEqual(created.body);

    const patched = await t.call("PATCH", "/api/v1/event-types/pet.adopted", { description: "Adopted", archived: true });
    expect(patched.body).toMatchObject({ description: "Adopted", archived: true, schema });

    const listed = await t.call("GET", "/api/v1/event-types");
    expect(listed.body.data.map((e: { name: string }) => e.name)).not.toContain("pet.adopted");
    const withArchived = await t.call("GET", "/api/v1/event-types?includeArchived=true");
    expect(withArchived.body.data.map((e: { name: string }) => e.name)).toContain("pet.adopted");

    expect((await t.call("DELETE", "/api/v1/event-types/pet.adopted")).status).toBe(204);
    expect((await t.call("GET", "/api/v1/event-types/pet.adopted")).status).toBe(404);
    expect((await t.call("DELETE", "/api/v1/event-types/pet.adopted")).status).toBe(404);
  });

  it("answers 409 for a name already in the catalog", async () => {
    expect((await t.call("POST", "/api/v1/event-types", { name: "order.created" })).status).toBe(201);
    expect((await t.call("POST", "/api/v1/event-types", { name: "order.created" })).body.code).toBe("conflict");
  });

  it("validates names, schema and examples", async () => {
    const res = await t.call("POST", "/api/v1/event-types", { name: "bad name", schema: "nope", examples: {} });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(["/examples", "/name", "/schema"]);
    expect((await t.call("PATCH", "/api/v1/event-types/missing", { description: "x" })).status).toBe(404);
  });
});
