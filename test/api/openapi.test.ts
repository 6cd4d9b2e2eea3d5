import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeTable } from "../../src/api/route-table.js";
import { openApi, type TestApi } from "./helpers.js";

/** `/openapi.json` is a valid OpenAPI 3.1 document of the whole API and the catalog; `/docs` shows it. */

let t: TestApi;
// biome-ignore lint/suspicious/noExplicitAny: the document is read as plain JSON
let doc: any;

const SIGNATURE_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-signature", "x-webhook-event", "x-webhook-id", "x-webhook-attempt"];

beforeAll(async () => {
  t = await openApi();
  await t.call("POST", "/api/v1/event-types", {
    name: "pet.adopted",
    description: "A pet found a home <script>alert(1)</script>",
    schema: { type: "object", required: ["data"], properties: { data: { type: "object", properties: { petId: { type: "string" } } } } },
    examples: [{ data: { petId: "pet_1" } }],
  });
  await t.call("POST", "/api/v1/event-types", {
    name: "legacy.thing",
    schema: { $schema: "http://json-schema.org/draft-07/schema#", definitions: { id: { type: "string" } }, properties: { id: { $ref: "#/definitions/id" } } },
  });
  await t.call("PATCH", "/api/v1/event-types/legacy.thing", { archived: true });
  await t.call("POST", "/api/v1/event-types", { name: "untyped" });
  const res = await t.app.inject({ method: "GET", url: "/openapi.json" });
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  doc = res.json();
});
afterAll(() => t.close());

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(doc.openapi).toBe("3.1.0");
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)?.slice(0, 2000)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents every API route of the route table, with bearer security and problem responses", () => {
    const api = routeTable(t.app).filter((r) => r.url.startsWith("/api/v1"));
    expect(api.length).toBeGreaterThan(25);
    for (const route of api) {
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${path}`).toBeDefined();
      expect(op.summary, `${route.method} ${path}`).toBeTruthy();
      expect(op.responses["4XX"]).toEqual({ $ref: "#/components/responses/Problem" });
      expect(Object.keys(op.responses).some((code) => /^2\d\d$/.test(code)), `${route.method} ${path} has a success response`).toBe(true);
      for (const name of route.url.match(/:([A-Za-z0-9_]+)/g) ?? []) {
        expect(op.parameters.some((p: { name: string; in: string }) => p.in === "path" && p.name === name.slice(1))).toBe(true);
      }
    }
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) expect(doc.paths[path].get.security).toEqual([]);
    expect(doc.paths["/portal"]).toBeUndefined();
    expect(doc.paths["/docs"]).toBeUndefined();
  });

  it("describes requests and responses with the main objects as components", () => {
    const create = doc.paths["/api/v1/applications/{app}/endpoints"].post;
    expect(create.requestBody.required).toBe(true);
    expect(create.requestBody.content["application/json"].schema.required).toEqual(["url"]);
    expect(create.responses["201"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/Endpoint" });
    const list = doc.paths["/api/v1/applications/{app}/messages"].get;
    expect(list.responses["200"].content["application/json"].schema.properties.data.items).toEqual({ $ref: "#/components/schemas/Message" });
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["app", "limit", "cursor", "eventType", "status", "before", "after"]));
    expect(doc.paths["/api/v1/applications/{app}/messages"].post.parameters.some((p: { name: string }) => p.name === "Idempotency-Key")).toBe(true);
    const batch = doc.paths["/api/v1/applications/{app}/messages/batch"].post;
    expect(batch.requestBody.content["application/json"].schema.properties.messages.maxItems).toBe(1000);
    expect(batch.responses["202"].content["application/json"].schema.properties.data.items).toEqual({ $ref: "#/components/schemas/Message" });
    expect(doc.paths["/api/v1/applications/{app}/endpoints/{ep}/enable"].post.requestBody.required).toBe(false);
    expect(doc.paths["/api/v1/applications/{app}"].delete.responses["204"]).toEqual({ description: "No content" });
    expect(doc.paths["/api/v1/applications"].post.description).toContain("Admin key only");
    for (const name of ["Application", "EventType", "Endpoint", "Message", "Delivery", "Attempt", "EndpointStats", "Problem", "PortalToken", "AdminKey", "OperationalEvent"]) {
      expect(doc.components.schemas[name], name).toBeDefined();
    }
  });

  it("has one webhook per catalog event type, with schema, examples and signature headers; archived ones deprecated", () => {
    expect(Object.keys(doc.webhooks).sort()).toEqual(["legacy.thing", "pet.adopted", "untyped"]);
    const adopted = doc.webhooks["pet.adopted"].post;
    expect(adopted.description).toBe("A pet found a home <script>alert(1)</script>");
    expect(adopted.deprecated).toBeUndefined();
    const media = adopted.requestBody.content["application/json"];
    expect(media.schema.required).toEqual(["data"]);
    expect(media.examples).toEqual({ example1: { value: { data: { petId: "pet_1" } } } });
    const headers = adopted.parameters.map((p: { $ref: string }) => doc.components.parameters[p.$ref.split("/").pop()!]);
    expect(headers.map((h: { name: string }) => h.name)).toEqual(SIGNATURE_HEADERS);
    expect(headers.every((h: { in: string; required: boolean }) => h.in === "header" && h.required)).toBe(true);
    const legacy = doc.webhooks["legacy.thing"].post;
    expect(legacy.deprecated).toBe(true);
    // Its own #/definitions refs resolve inside it, not against the document.
    expect(legacy.requestBody.content["application/json"].schema.$id).toBe("urn:herald:event-type:legacy.thing");
    expect(doc.webhooks.untyped.post.requestBody.content["application/json"].schema).toEqual({});
  });

  it("follows the catalog without a restart", async () => {
    await t.call("POST", "/api/v1/event-types", { name: "brand.new" });
    const again = (await t.app.inject({ method: "GET", url: "/openapi.json" })).json();
    expect(again.webhooks["brand.new"]).toBeDefined();
    await t.call("DELETE", "/api/v1/event-types/brand.new");
  });

  it("needs no key", async () => {
    expect((await t.app.inject({ method: "GET", url: "/openapi.json" })).statusCode).toBe(200);
  });
});

describe("GET /docs", () => {
  it("renders the descriptions' markdown (bold, code, lists, own links) and no raw markup, from tenants neither", async () => {
    await t.call("POST", "/api/v1/event-types", {
      name: "md.check",
      description: "Sent when **an order** ships; read `data.orderId`.\n\n- one\n- two\n\n[evil](javascript:alert(1)) [far](//evil.example/x) [near](/docs#Webhooks) <b>x</b>",
    });
    const html = (await t.app.inject({ method: "GET", url: "/docs" })).body;
    expect(html).toContain("<strong>an order</strong>");
    expect(html).toContain("<code>data.orderId</code>");
    expect(html).toContain("<ul><li>one</li><li>two</li></ul>");
    expect(html).toContain('<a href="/docs#Webhooks">near</a>');
    expect(html).toContain("[evil](javascript:alert(1))");
    expect(html).toContain("[far](//evil.example/x)");
    expect(html).toContain("&lt;b&gt;x&lt;/b&gt;");
    // Nowhere in the page a markdown marker left as text.
    expect(html).not.toMatch(/\*\*[^*<]+\*\*/);
    await t.call("DELETE", "/api/v1/event-types/md.check");
  });

  it("is one self-contained HTML page: no script, nothing from elsewhere, data escaped", async () => {
    const res = await t.app.inject({ method: "GET", url: "/docs" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    const html = res.body;
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\s(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).toContain("/api/v1/applications/{app}/endpoints");
    expect(html).toContain("pet.adopted");
    expect(html).toContain("x-webhook-signature".replace(/-/g, "-"));
    expect(html).toContain('class="dep"');
    // The one inline style is allowed by its hash and nothing else is.
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = (await import("node:crypto")).createHash("sha256").update(style).digest("base64");
    expect(res.headers["content-security-policy"]).toContain(`style-src 'sha256-${hash}'`);
    expect(res.headers["content-security-policy"]).toContain("default-src 'none'");
  });
});
