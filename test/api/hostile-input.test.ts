import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/core/json-limits.js";
import { ADMIN_KEY, openApi, type Reply, type TestApi } from "./helpers.js";

/**
 * Hostile and careless JSON bodies (issue 8 §2.1–2.2): nested too deep, not
 * UTF-8, lone surrogates, numbers beyond a double. Each is a 4xx problem with
 * a stable code, never a 500, and nothing is stored.
 */

let t: TestApi;
let appId: string;
const msgs = "/api/v1/applications/hostile/messages";

beforeAll(async () => {
  t = await openApi();
  appId = (await t.call("POST", "/api/v1/applications", { name: "Hostile", uid: "hostile" })).body.id;
});
afterAll(() => t.close());

/** Sends `body` as is (bytes or text) with the admin key. */
async function send(method: "POST" | "PATCH", url: string, body: string | Buffer): Promise<Reply> {
  const res = await t.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    payload: body,
  });
  return { status: res.statusCode, headers: res.headers, body: res.json() };
}

/** `{"a": {"a": … {}}}` with `levels` objects in all. */
const nested = (levels: number): string => `${'{"a":'.repeat(levels - 1)}{}${"}".repeat(levels - 1)}`;
const publishBody = (payloadText: string) => `{"eventType":"order.created","payload":${payloadText}}`;

async function storedMessages(): Promise<number> {
  return (await t.store.listMessages(appId as never, {}, { limit: 250 })).data.length;
}

function expectProblem(res: Reply, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, type: `/problems/${code}` });
}

describe("nesting depth", () => {
  it("refuses a payload nested 5,000 deep with 422 too_deep, and stores nothing", async () => {
    const before = await storedMessages();
    for (const payload of [nested(5000), `{"a":${"[".repeat(5000)}${"]".repeat(5000)}}`]) {
      const res = await send("POST", msgs, publishBody(payload));
      expectProblem(res, 422, "too_deep");
      expect(res.body.detail).toMatch(/more than 65 levels deep/);
    }
    expect(await storedMessages()).toBe(before);
  });

  it(`accepts a payload of exactly ${MAX_JSON_DEPTH} levels and refuses one more`, async () => {
    const ok = await send("POST", msgs, publishBody(nested(MAX_JSON_DEPTH)));
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
    const before = await storedMessages();
    expectProblem(await send("POST", msgs, publishBody(nested(MAX_JSON_DEPTH + 1))), 422, "too_deep");
    expect(await storedMessages()).toBe(before);
  });

  it("checks every JSON body: event-type schemas, application metadata", async () => {
    const schema = `{"name":"deep.schema","schema":${`{"items":`.repeat(3000)}{}${"}".repeat(3000)}}`;
    expectProblem(await send("POST", "/api/v1/event-types", schema), 422, "too_deep");
    expect(await t.store.getEventType("deep.schema")).toBeNull();
    const apps = (await t.store.listApplications({ limit: 250 })).data.length;
    expectProblem(await send("POST", "/api/v1/applications", `{"name":"x","metadata":${nested(10_000)}}`), 422, "too_deep");
    expect((await t.store.listApplications({ limit: 250 })).data.length).toBe(apps);
  });

  it("does not mistake brackets inside strings for nesting", async () => {
    const res = await send("POST", msgs, publishBody(JSON.stringify({ text: "[".repeat(10_000), quoted: '\\"{{{' })));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
  });
});

describe("values that would not come back as sent", () => {
  it("refuses invalid UTF-8 bytes (422), instead of storing U+FFFD", async () => {
    const before = await storedMessages();
    const prefix = Buffer.from('{"eventType":"order.created","payload":{"name":"caf');
    for (const bad of [[0xe9], [0xff], [0xc3], [0xed, 0xa0, 0x80] /* an encoded surrogate */, [0xc0, 0xaf] /* overlong "/" */]) {
      const res = await send("POST", msgs, Buffer.concat([prefix, Buffer.from(bad), Buffer.from('"}}')]));
      expectProblem(res, 422, "validation_failed");
      expect(res.body.detail).toBe(`the request body is not valid UTF-8 (byte ${prefix.length}); send JSON as UTF-8`);
    }
    expect(await storedMessages()).toBe(before);
    // Valid multi-byte UTF-8 (and an escaped pair) still passes.
    const ok = await send("POST", msgs, Buffer.from(publishBody('{"name":"café 😀 \\ud83d\\ude00"}')));
    expect(ok.status).toBe(202);
    expect(ok.body.payload.name).toBe("café 😀 😀");
  });

  it("refuses lone surrogate escapes in values and keys (422)", async () => {
    const before = await storedMessages();
    for (const payload of ['{"name":"\\ud800"}', '{"name":"x\\udc00y"}', '{"\\udbff":1}', '{"name":"\\ud800\\u0041"}', '["\\ud83d"]']) {
      const res = await send("POST", msgs, publishBody(payload));
      expectProblem(res, 422, "validation_failed");
      expect(res.body.detail).toMatch(/lone UTF-16 surrogate/);
    }
    expect(await storedMessages()).toBe(before);
    const one = await send("POST", msgs, publishBody('{"name":"\\ud800"}'));
    expect(one.body.detail).toBe("the request body: the escape \\ud800 at character 48 is a lone UTF-16 surrogate, which cannot be encoded as UTF-8");
    expect(one.body.errors).toEqual([{ path: "/", message: one.body.detail.replace("the request body: ", "") }]);
    const apps = (await t.store.listApplications({ limit: 250 })).data.length;
    expectProblem(await send("POST", "/api/v1/applications", '{"name":"\\udfff"}'), 422, "validation_failed");
    expect((await t.store.listApplications({ limit: 250 })).data.length).toBe(apps);
  });

  it("refuses numbers beyond a double (422), instead of sending null or 0", async () => {
    const before = await storedMessages();
    for (const n of ["1e400", "-1e400", `1${"0".repeat(400)}`, "1e-400", `0.${"0".repeat(400)}1`]) {
      const res = await send("POST", msgs, publishBody(`{"n":${n}}`));
      expectProblem(res, 422, "validation_failed");
      expect(res.body.detail).toMatch(/^the request body: the number .* (beyond the range of|too small for) a double \(IEEE 754\).* \(at character 44\)$/);
    }
    expect(await storedMessages()).toBe(before);
    // What a double holds passes, zero included.
    const ok = await send("POST", msgs, publishBody('{"a":1.7976931348623157e308,"b":5e-324,"c":0e-400,"d":-0.0,"e":12345678901234567890}'));
    expect(ok.status, JSON.stringify(ok.body)).toBe(202);
  });

  it("still answers 400 malformed_json for text that is not JSON", async () => {
    expectProblem(await send("POST", msgs, '{"eventType":'), 400, "malformed_json");
    expectProblem(await send("POST", msgs, '{"eventType":"a","payload":{"__proto__":{"x":1}}}'), 400, "malformed_json");
  });
});
