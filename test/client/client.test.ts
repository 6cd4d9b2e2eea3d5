// herald-client's request handling against a fake fetch: the URL and headers it
// sends, how an error answer becomes a HeraldApiError, which calls it retries
// (and how long it waits), and pagination.
import { describe, expect, it } from "vitest";
import { createHeraldClient, HeraldApiError } from "../../packages/herald-client/src/index.js";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  at: number;
}

/** A fetch that answers from `answers` in turn (a Response, or an Error to throw) and records each request. */
function fakeFetch(answers: (Response | Error | (() => Response))[]) {
  const sent: Sent[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    sent.push({
      url,
      method: String(init.method),
      headers: Object.fromEntries(new Headers(init.headers).entries()),
      body: init.body as string | undefined,
      at: Date.now(),
    });
    const next = answers.shift();
    if (!next) throw new Error("no more answers");
    if (next instanceof Error) throw next;
    return typeof next === "function" ? next() : next;
  }) as unknown as typeof globalThis.fetch;
  return { fetch, sent };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
const problem = (status: number, code: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: "about:blank", title: code, status, detail: `a ${code}`, code, ...extra }), {
    status,
    headers: { "content-type": "application/problem+json", ...headers },
  });
const APP = { id: "app_1", name: "Shop", uid: "shop", metadata: {}, createdAt: "2026-01-01T00:00:00Z", updatedAt: "2026-01-01T00:00:00Z" };

describe("herald-client requests", () => {
  it("fills path and query parameters, sends the key as a Bearer token and the body as JSON, and answers the body", async () => {
    const { fetch, sent } = fakeFetch([json(202, { id: "msg_1" })]);
    const client = createHeraldClient({ baseUrl: "http://herald.test/base/", apiKey: "key_123", fetch, headers: { "x-team": "a" } });
    const out = await client.POST("/api/v1/applications/{app}/messages", {
      params: { path: { app: "shop/eu" }, header: { "Idempotency-Key": "order-1" } },
      body: { eventType: "order.created", payload: { orderId: "1" } },
    });
    expect(out).toEqual({ id: "msg_1" });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      url: "http://herald.test/base/api/v1/applications/shop%2Feu/messages",
      method: "POST",
      body: JSON.stringify({ eventType: "order.created", payload: { orderId: "1" } }),
    });
    expect(sent[0]!.headers).toMatchObject({ authorization: "Bearer key_123", "idempotency-key": "order-1", "content-type": "application/json", "x-team": "a" });

    const { fetch: f2, sent: s2 } = fakeFetch([json(200, { data: [], nextCursor: null }), new Response(null, { status: 204 })]);
    const c2 = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch: f2 });
    await c2.GET("/api/v1/applications/{app}/messages", { params: { path: { app: "shop" }, query: { limit: 2, status: "failed", eventType: undefined } } });
    expect(s2[0]!.url).toBe("http://herald.test/api/v1/applications/shop/messages?limit=2&status=failed");
    expect(await c2.DELETE("/api/v1/applications/{app}", { params: { path: { app: "shop" } } })).toBeUndefined();
  });

  it("throws a problem+json answer as a HeraldApiError with status, code, detail and errors", async () => {
    const errors = [{ path: "/name", message: "must NOT have fewer than 1 characters" }];
    const { fetch } = fakeFetch([problem(422, "validation_failed", { errors }), new Response("upstream down", { status: 502 })]);
    const client = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch });
    const err = await client.POST("/api/v1/applications", { body: { name: "" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldApiError);
    expect(err).toMatchObject({ name: "HeraldApiError", status: 422, code: "validation_failed", detail: "a validation_failed", errors, request: "POST /api/v1/applications" });
    // Not problem+json (a proxy's page): still a HeraldApiError, with a code made from the status.
    const other = await client.GET("/api/v1/applications").catch((e: unknown) => e);
    expect(other).toMatchObject({ status: 502, code: "http_502", detail: "upstream down", errors: [] });
  });

  it("retries an idempotent call on a network error, a 503 and a 429 (waiting its Retry-After), with a bounded backoff", async () => {
    const { fetch, sent } = fakeFetch([new TypeError("fetch failed"), problem(503, "unavailable"), problem(429, "rate_limited", {}, { "retry-after": "1" }), json(200, APP)]);
    const client = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch, retries: 3 });
    expect(await client.GET("/api/v1/applications/{app}", { params: { path: { app: "shop" } } })).toEqual(APP);
    expect(sent.map((s) => s.method)).toEqual(["GET", "GET", "GET", "GET"]);
    expect(sent[3]!.at - sent[2]!.at).toBeGreaterThanOrEqual(950); // Retry-After: 1
    expect(sent[1]!.at - sent[0]!.at).toBeLessThan(900); // the backoff is small

    // Retries run out: the last answer is thrown.
    const { fetch: f2, sent: s2 } = fakeFetch([problem(503, "unavailable"), problem(503, "unavailable")]);
    const c2 = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch: f2, retries: 1 });
    await expect(c2.DELETE("/api/v1/applications/{app}", { params: { path: { app: "shop" } } })).rejects.toMatchObject({ status: 503 });
    expect(s2).toHaveLength(2);

    // A Retry-After beyond the bound is not waited for.
    const { fetch: f3, sent: s3 } = fakeFetch([problem(429, "rate_limited", {}, { "retry-after": "3600" })]);
    const c3 = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch: f3, maxRetryDelayMs: 2000 });
    await expect(c3.GET("/api/v1/applications")).rejects.toMatchObject({ status: 429, code: "rate_limited" });
    expect(s3).toHaveLength(1);
  });

  it("retries a POST only with an Idempotency-Key, and never a 4xx other than 429", async () => {
    const body = { eventType: "order.created", payload: {} };
    const path = { app: "shop" };
    const { fetch, sent } = fakeFetch([new TypeError("fetch failed")]);
    const client = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch });
    await expect(client.POST("/api/v1/applications/{app}/messages", { params: { path }, body })).rejects.toThrow("fetch failed");
    expect(sent).toHaveLength(1);

    const { fetch: f2, sent: s2 } = fakeFetch([new TypeError("fetch failed"), problem(503, "unavailable"), json(202, { id: "msg_1" })]);
    const c2 = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch: f2 });
    expect(await c2.POST("/api/v1/applications/{app}/messages", { params: { path, header: { "Idempotency-Key": "k1" } }, body })).toEqual({ id: "msg_1" });
    expect(s2.map((s) => s.headers["idempotency-key"])).toEqual(["k1", "k1", "k1"]);
    expect(new Set(s2.map((s) => s.body)).size).toBe(1);

    const { fetch: f3, sent: s3 } = fakeFetch([problem(409, "conflict")]);
    const c3 = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch: f3 });
    await expect(c3.GET("/api/v1/applications")).rejects.toMatchObject({ status: 409 });
    expect(s3).toHaveLength(1);
  });

  it("pages through a list with an async iterator, following nextCursor and keeping the filters", async () => {
    const { fetch, sent } = fakeFetch([
      json(200, { data: [{ id: "msg_5" }, { id: "msg_4" }], nextCursor: "c1" }),
      json(200, { data: [{ id: "msg_3" }, { id: "msg_2" }], nextCursor: "c2" }),
      json(200, { data: [{ id: "msg_1" }], nextCursor: null }),
    ]);
    const client = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch });
    const ids: string[] = [];
    for await (const msg of client.paginate("/api/v1/applications/{app}/messages", { params: { path: { app: "shop" }, query: { limit: 2, eventType: "order.created" } } })) {
      ids.push(msg.id);
    }
    expect(ids).toEqual(["msg_5", "msg_4", "msg_3", "msg_2", "msg_1"]);
    expect(sent.map((s) => new URL(s.url).search)).toEqual(["?limit=2&eventType=order.created", "?limit=2&eventType=order.created&cursor=c1", "?limit=2&eventType=order.created&cursor=c2"]);
  });

  it("refuses to start without a baseUrl or an apiKey, and a call with a path parameter missing", async () => {
    expect(() => createHeraldClient({ baseUrl: "", apiKey: "k" })).toThrow(/baseUrl/);
    expect(() => createHeraldClient({ baseUrl: "http://x", apiKey: "" })).toThrow(/apiKey/);
    const { fetch, sent } = fakeFetch([]);
    const client = createHeraldClient({ baseUrl: "http://herald.test", apiKey: "k", fetch });
    await expect(client.GET("/api/v1/applications/{app}", { params: { path: {} as { app: string } } })).rejects.toThrow(/missing path parameter app/);
    expect(sent).toHaveLength(0);
  });
});
