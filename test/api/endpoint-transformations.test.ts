import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeraldError } from "../../src/core/errors.js";
import { openTestHerald } from "../helpers/herald.js";
import { openApi, type TestApi } from "./helpers.js";

let t: TestApi;
const base = "/api/v1/applications/shop/endpoints";
beforeAll(async () => {
  t = await openApi();
  await t.call("POST", "/api/v1/applications", { name: "Shop", uid: "shop" });
});
afterAll(() => t.close());

const create = (body: Record<string, unknown>) => t.call("POST", base, { url: "https://example.com/hook", ...body });
const CODE = 'function handler(webhook) {\n  webhook.payload = { text: "Order " + webhook.payload.id };\n  return webhook;\n}';

describe("endpoint transformations over the API", () => {
  it("stores, reads, changes and removes a transformation (enabled by default)", async () => {
    const res = await create({ transformation: { code: CODE } });
    expect(res.status).toBe(201);
    expect(res.body.transformation).toEqual({ code: CODE, enabled: true });
    const url = `${base}/${res.body.id}`;
    expect((await t.call("GET", url)).body.transformation).toEqual({ code: CODE, enabled: true });

    const off = await t.call("PATCH", url, { transformation: { code: CODE, enabled: false } });
    expect(off.status).toBe(200);
    expect(off.body.transformation).toEqual({ code: CODE, enabled: false });
    expect((await t.call("PATCH", url, { description: "kept" })).body.transformation).toEqual({ code: CODE, enabled: false });
    expect((await t.call("PATCH", url, { transformation: null })).body.transformation).toBeNull();
    expect((await create({})).body.transformation).toBeNull();
  });

  it("refuses code over 64 KiB with transformation_too_large, and malformed fields with validation_failed", async () => {
    const big = await create({ transformation: { code: `// ${"x".repeat(64 * 1024)}\nfunction handler(w) { return w; }` } });
    expect(big.status).toBe(422);
    expect(big.body.code).toBe("transformation_too_large");
    expect(big.body.errors).toEqual([{ path: "/transformation/code", message: "must be at most 65536 bytes" }]);
    // Counted in UTF-8 bytes: 30,000 three-byte characters are 90,000 bytes.
    expect((await create({ transformation: { code: "€".repeat(30_000) } })).body.code).toBe("transformation_too_large");

    for (const bad of [{ code: "" }, { code: 3 }, { enabled: true }, { code: CODE, extra: 1 }, "code", []]) {
      const r = await create({ transformation: bad });
      expect(r.status).toBe(422);
      expect(r.body.code).toBe("validation_failed");
    }
  });

  it("tries code on a sample: 200 with the request it made, or 422 transformation_failed saying why", async () => {
    const ep = (await create({ headers: { "X-Tenant": "t1" } })).body.id;
    const test = (body: Record<string, unknown>) => t.call("POST", `${base}/${ep}/transformation/test`, { eventType: "order.created", payload: { id: 7 }, ...body });

    const ok = await test({ code: "function handler(w) { w.payload.n = 1; w.headers['x-b'] = w.eventType; w.method = 'PUT'; return w; }" });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({
      method: "PUT",
      url: "https://example.com/hook",
      eventType: "order.created",
      payload: { id: 7, n: 1 },
      headers: { "x-tenant": "t1", "x-b": "order.created" },
      cancel: false,
    });
    expect((await test({ code: "function handler(w) { w.cancel = true; return w; }" })).body.cancel).toBe(true);

    const threw = await test({ code: "function handler(w) { return w.nope.x; }" });
    expect(threw.status).toBe(422);
    expect(threw.body.code).toBe("transformation_failed");
    expect(threw.body.detail).toMatch(/^handler threw: TypeError: /);
    expect((await test({ code: "function handler(w) { while (true) {} }" })).body.detail).toBe("timed out after 100 ms");

    // Without code: the endpoint's own (none yet, then the stored one, even disabled).
    const none = await test({});
    expect(none.status).toBe(422);
    expect(none.body.code).toBe("validation_failed");
    await t.call("PATCH", `${base}/${ep}`, { transformation: { code: CODE, enabled: false } });
    expect((await test({})).body.payload).toEqual({ text: "Order 7" });

    expect((await test({ code: `//${"x".repeat(70_000)}` })).body.code).toBe("transformation_too_large");
    expect((await test({ payload: [1] })).status).toBe(422);
    expect((await t.call("POST", `${base}/ep_nope/transformation/test`, { eventType: "a", payload: {} })).status).toBe(404);
  });

  it("lets a portal token try its own endpoints' transformations, and no one else's", async () => {
    const ep = (await create({})).body.id;
    const { token } = (await t.call("POST", "/api/v1/applications/shop/portal-token")).body;
    await t.call("POST", "/api/v1/applications", { name: "Other", uid: "other" });
    const foreign = (await t.call("POST", "/api/v1/applications/other/endpoints", { url: "https://example.com/x" })).body.id;
    const body = { eventType: "a.b", payload: { x: 1 }, code: "function handler(w) { return w; }" };
    const own = await t.call("POST", `${base}/${ep}/transformation/test`, body, { authorization: `Bearer ${token}` });
    expect(own.status).toBe(200);
    const other = await t.call("POST", `/api/v1/applications/other/endpoints/${foreign}/transformation/test`, body, { authorization: `Bearer ${token}` });
    expect(other.status).toBe(404);
  });
});

describe("endpoint transformations in the library", () => {
  it("checks the field as the API does, and tries code", async () => {
    const { herald, close } = await openTestHerald();
    try {
      const app = await herald.createApplication({ name: "Lib" });
      const ep = await herald.createEndpoint(app.id, { url: "https://example.com/h", transformation: { code: CODE } });
      expect(ep.transformation).toEqual({ code: CODE, enabled: true });
      const updated = await herald.updateEndpoint(app.id, ep.id, { transformation: { code: CODE, enabled: false } });
      expect(updated.transformation?.enabled).toBe(false);
      await expect(herald.createEndpoint(app.id, { url: "https://example.com/h", transformation: { code: "x".repeat(65_537) } })).rejects.toMatchObject({
        code: "transformation_too_large",
      });
      expect(await herald.testTransformation(app.id, ep.id, { eventType: "order.created", payload: { id: 3 } })).toMatchObject({
        payload: { text: "Order 3" },
        cancel: false,
      });
      const failed = await herald.testTransformation(app.id, ep.id, { eventType: "a", payload: {}, code: "throw new Error('boom')" }).catch((e) => e);
      expect(failed).toBeInstanceOf(HeraldError);
      expect(failed.message).toBe("the code failed to load: Error: boom");
    } finally {
      await close();
    }
  });
});
