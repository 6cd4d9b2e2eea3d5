import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/api/auth.js";
import { TokenBuckets } from "../../src/api/rate-limit.js";
import { resolveConfig } from "../../src/config/config.js";
import { openApi, type TestApi } from "./helpers.js";

describe("token buckets", () => {
  it("allow a burst, then refill at the rate, each key on its own", () => {
    const b = new TokenBuckets(2, 4);
    const t0 = 1_000_000;
    for (let i = 0; i < 4; i++) expect(b.take("a", t0).ok).toBe(true);
    const refused = b.take("a", t0);
    expect(refused).toEqual({ ok: false, retryAfterMs: 500 });
    expect(b.take("b", t0).ok).toBe(true);
    expect(b.take("a", t0 + 499).ok).toBe(false);
    expect(b.take("a", t0 + 1000).ok).toBe(true);
    expect(b.take("a", t0 + 10_000)).toEqual({ ok: true, remaining: 3 });
  });

  it("stay bounded in memory, dropping idle buckets first", () => {
    const b = new TokenBuckets(1, 1, 100);
    for (let i = 0; i < 1000; i++) b.take(`k${i}`, i * 10_000);
    expect(b.size).toBeLessThanOrEqual(100);
  });
});

describe("rate limiting of the management API", () => {
  let t: TestApi;
  beforeAll(async () => {
    // 2 per second, burst of 4.
    t = await openApi({ HERALD_API_RATE_LIMIT: "2" });
    await t.app.inject({ method: "GET", url: "/healthz" });
  });
  afterAll(() => t.close());

  it("answers 429 rate_limited with Retry-After once a key's burst is spent; other keys are unaffected", async () => {
    const statuses: number[] = [];
    let last = await t.call("GET", "/api/v1/event-types");
    statuses.push(last.status);
    for (let i = 0; i < 5; i++) {
      last = await t.call("GET", "/api/v1/event-types");
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses.at(-1)).toBe(429);
    expect(last.headers["content-type"]).toMatch(/^application\/problem\+json/);
    expect(last.body).toMatchObject({ status: 429, code: "rate_limited", type: "/problems/rate_limited" });
    expect(Number(last.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(last.headers["ratelimit-remaining"]).toBe("0");

    // Another key (a created admin key is one) has its own bucket…
    await t.store.createAdminKey({ id: "key_01ARZ3NDEKTSV4RRFFQ69G5FAV", name: "x", keyHash: sha256Hex("hk_other-key-other-key"), createdAt: Date.now() });
    expect((await t.call("GET", "/api/v1/event-types", undefined, { authorization: "Bearer hk_other-key-other-key" })).status).toBe(200);
    // …health is outside the API and not limited…
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    // …and neither is publishing (the data plane).
    await t.store.createApplication({ id: "app_01ARZ3NDEKTSV4RRFFQ69G5FAV", uid: "rl", name: "rl", metadata: {}, createdAt: Date.now(), updatedAt: Date.now() });
    for (let i = 0; i < 10; i++) {
      expect((await t.call("POST", "/api/v1/applications/rl/messages", { eventType: "a.b", payload: {} })).status).toBe(202);
    }
  });

  it("counts each message of a portal token's bulk publish (an admin key's publishes are not counted)", async () => {
    await new Promise((r) => setTimeout(r, 2100)); // a full bucket again
    const app = (await t.call("POST", "/api/v1/applications", { name: "bulk", uid: "bulk-rl" })).body;
    const token = (await t.call("POST", `/api/v1/applications/${app.id}/portal-token`)).body.token as string;
    const portal = { authorization: `Bearer ${token}` };
    const messages = Array.from({ length: 10 }, () => ({ eventType: "a.b", payload: {} }));
    // The admin key publishes in bulk as much as it likes.
    for (let i = 0; i < 3; i++) expect((await t.call("POST", "/api/v1/applications/bulk-rl/messages/batch", { messages })).status).toBe(202);
    // A portal token's batch of 10 passes (its bucket was not empty) and leaves it 6 in debt (burst 4, 2 per second)…
    expect((await t.call("POST", `/api/v1/applications/${app.id}/messages/batch`, { messages }, portal)).status).toBe(202);
    const next = await t.call("POST", `/api/v1/applications/${app.id}/messages`, { eventType: "a.b", payload: {} }, portal);
    expect(next.status).toBe(429);
    expect(Number(next.headers["retry-after"])).toBeGreaterThanOrEqual(3);
  });

  it("refills over time", async () => {
    await new Promise((r) => setTimeout(r, 600));
    expect((await t.call("GET", "/api/v1/event-types")).status).toBe(200);
  });

  it("is on by default (100 per second) and off with 0", () => {
    expect(resolveConfig({}).apiRateLimit).toBe(100);
    expect(resolveConfig({ HERALD_API_RATE_LIMIT: "0" }).apiRateLimit).toBe(0);
    expect(() => resolveConfig({ HERALD_API_RATE_LIMIT: "fast" })).toThrow(/HERALD_API_RATE_LIMIT: expected an integer/);
  });
});
