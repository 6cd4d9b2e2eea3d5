import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApi, type TestApi } from "./helpers.js";

/**
 * Schema patterns run on a linear-time engine (issue 8 §2.4): `^(a+)+$` on a
 * 30-character string would stall a backtracking engine for seconds to
 * minutes (each extra character doubles it). Patterns RE2 cannot run are
 * refused when the schema is stored.
 */

let t: TestApi;
let appId: string;
const msgs = "/api/v1/applications/patterns/messages";
const EVIL = `${"a".repeat(30)}!`;

beforeAll(async () => {
  t = await openApi();
  appId = (await t.call("POST", "/api/v1/applications", { name: "Patterns", uid: "patterns" })).body.id;
});
afterAll(() => t.close());

const storedMessages = async () => (await t.store.listMessages(appId as never, {}, { limit: 250 })).data.length;

/** Runs `fn` and says how long the event loop was held. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

describe("catastrophic patterns", () => {
  it("match a hostile 30-character string at once (pattern), and refuse it (422)", async () => {
    const created = await t.call("POST", "/api/v1/event-types", {
      name: "evil.pattern",
      schema: { type: "object", properties: { name: { type: "string", pattern: "^(a+)+$" } } },
      examples: [{ name: "aaaa" }],
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const before = await storedMessages();
    const { value: res, ms } = await timed(() => t.call("POST", msgs, { eventType: "evil.pattern", payload: { name: EVIL } }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: "validation_failed", errors: [{ path: "/payload/name" }] });
    expect(ms).toBeLessThan(1000);
    expect(await storedMessages()).toBe(before);
    expect((await t.call("POST", msgs, { eventType: "evil.pattern", payload: { name: "a".repeat(10_000) } })).status).toBe(202);
  });

  it("match hostile property names at once (patternProperties)", async () => {
    const created = await t.call("POST", "/api/v1/event-types", {
      name: "evil.keys",
      schema: { type: "object", patternProperties: { "^(a|aa)+$": { type: "integer" } }, additionalProperties: false },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const before = await storedMessages();
    const { value: res, ms } = await timed(() => t.call("POST", msgs, { eventType: "evil.keys", payload: { [EVIL]: 1, [`${"a".repeat(40)}b`]: 2 } }));
    expect(res.status).toBe(422);
    expect(ms).toBeLessThan(1000);
    expect(await storedMessages()).toBe(before);
    expect((await t.call("POST", msgs, { eventType: "evil.keys", payload: { aaaa: 1 } })).status).toBe(202);
  });

  it("check a hostile example at once when the schema is stored", async () => {
    const { value: res, ms } = await timed(() =>
      t.call("POST", "/api/v1/event-types", {
        name: "evil.example",
        schema: { type: "string", pattern: "^(a+)+$" },
        examples: [EVIL],
      }),
    );
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe("/examples/0");
    expect(ms).toBeLessThan(1000);
    expect(await t.store.getEventType("evil.example")).toBeNull();
  });
});

describe("patterns RE2 cannot run", () => {
  it("are refused with 422 on /schema when an event type is created or changed, and nothing is stored", async () => {
    const unsupported = ["^(?=a)a$", "^(?!x).*$", "(?<=a)b", "^(a)\\1$"];
    for (const pattern of unsupported) {
      for (const schema of [{ type: "string", pattern }, { type: "object", patternProperties: { [pattern]: {} } }]) {
        const res = await t.call("POST", "/api/v1/event-types", { name: "re2.refused", schema });
        expect(res.status, pattern).toBe(422);
        expect(res.body.code).toBe("validation_failed");
        expect(res.body.errors[0].path).toBe("/schema");
        expect(res.body.detail).toContain(`pattern ${JSON.stringify(pattern)} is not supported`);
      }
    }
    expect(await t.store.getEventType("re2.refused")).toBeNull();

    expect((await t.call("POST", "/api/v1/event-types", { name: "re2.kept", schema: { type: "string", pattern: "^[a-z]+$" } })).status).toBe(201);
    const patched = await t.call("PATCH", "/api/v1/event-types/re2.kept", { schema: { type: "string", pattern: "^(?=a)" } });
    expect(patched.status).toBe(422);
    expect((await t.store.getEventType("re2.kept"))!.schema).toEqual({ type: "string", pattern: "^[a-z]+$" });
  });

  it("accept the ECMA-262 syntax schemas use: \\u escapes, classes, named groups, Unicode properties", async () => {
    const schema = { type: "object", properties: { tag: { type: "string", pattern: "^(?<word>[\\p{L}\\d_-]+)\\u0020\\d{2,4}$" } } };
    const created = await t.call("POST", "/api/v1/event-types", { name: "re2.ecma", schema, examples: [{ tag: "café 123" }] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await t.call("POST", msgs, { eventType: "re2.ecma", payload: { tag: "naïve_1 2024" } })).status).toBe(202);
    expect((await t.call("POST", msgs, { eventType: "re2.ecma", payload: { tag: "café 1" } })).status).toBe(422);
  });
});
