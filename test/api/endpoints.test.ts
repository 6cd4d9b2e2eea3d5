import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildApi } from "../../src/api/server.js";
import type { Herald } from "../../src/herald.js";
import { generateSecret } from "../../src/signing/secret.js";
import { eventually, openTestHerald } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { openApi, recordAttempts, type TestApi } from "./helpers.js";

let t: TestApi;
let base: string;
beforeAll(async () => {
  t = await openApi();
  await t.call("POST", "/api/v1/applications", { name: "Pet Store", uid: "petstore" });
  base = "/api/v1/applications/petstore/endpoints";
});
afterAll(() => t.close());

const create = (body: Record<string, unknown>) => t.call("POST", base, { url: "https://example.com/hook", ...body });

describe("endpoints", () => {
  it("creates an endpoint, showing the generated secret in full once", async () => {
    const res = await create({ description: "orders", events: ["order.*", "pet.adopted"], metadata: { k: "v" } });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^ep_[0-9A-Z]{26}$/),
      url: "https://example.com/hook",
      description: "orders",
      events: ["order.*", "pet.adopted"],
      channels: null,
      filter: null,
      ordering: "none",
      transformation: null,
      status: "active",
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
      headers: {},
      authentication: null,
      timeoutMs: null,
      rateLimit: null,
      metadata: { k: "v" },
      disabledReason: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const read = await t.call("GET", `${base}/${res.body.id}`);
    expect(read.body.secret).toBe(`${res.body.secret.slice(0, 10)}…`);
    expect((await t.call("GET", `${base}/${res.body.id}/secret`)).body).toEqual({ secret: res.body.secret });
  });

  it("keeps a given secret and refuses a malformed one", async () => {
    const secret = generateSecret(24);
    const res = await create({ secret });
    expect(res.body.secret).toBe(secret);
    for (const bad of ["short", "whsec_abc", `whsec_${Buffer.alloc(10).toString("base64")}`]) {
      const r = await create({ secret: bad });
      expect(r.status).toBe(422);
      expect(r.body.errors[0].path).toBe("/secret");
    }
  });

  it('answers ["*"] for an endpoint that takes every event type', async () => {
    expect((await create({})).body.events).toEqual(["*"]);
    expect((await create({ events: [] })).body.events).toEqual(["*"]);
    expect((await create({ events: ["a.b", "*"] })).body.events).toEqual(["*"]);
  });

  it("masks authentication credentials on every read", async () => {
    const cases = [
      [{ type: "bearer", token: "tok_abcdefghijklmnop" }, { type: "bearer", token: "tok_…" }, "tok_abcdefghijklmnop"],
      [{ type: "basic", username: "bob", password: "hunter2" }, { type: "basic", username: "bob", password: "…" }, "hunter2"],
      [{ type: "header", name: "X-Api-Key", value: "key-1234567890abc" }, { type: "header", name: "X-Api-Key", value: "key-…" }, "key-1234567890abc"],
      [
        { type: "oauth2", tokenUrl: "https://auth.example.com/token", clientId: "cid", clientSecret: "cs-0123456789abcdef", scope: "hooks" },
        { type: "oauth2", tokenUrl: "https://auth.example.com/token", clientId: "cid", clientSecret: "cs-0…", scope: "hooks" },
        "cs-0123456789abcdef",
      ],
    ] as const;
    for (const [given, shown, credential] of cases) {
      const res = await create({ authentication: given });
      expect(res.status).toBe(201);
      expect(res.body.authentication).toEqual(shown);
      expect((await t.call("GET", `${base}/${res.body.id}`)).body.authentication).toEqual(shown);
      const listed = await t.call("GET", `${base}?limit=250`);
      expect(JSON.stringify(listed.body)).not.toContain(credential);
    }
  });

  it("refuses invalid URLs with a clear message", async () => {
    for (const url of ["not a url", "/relative", "ftp://example.com/x", "https://user:pw@example.com/", "http://", "https:///path", "mailto:a@b.c"]) {
      const res = await create({ url });
      expect(res.status, url).toBe(422);
      expect(res.body.errors[0].path, url).toBe("/url");
      expect(res.body.errors[0].message.length).toBeGreaterThan(10);
    }
    expect((await create({ url: "http://example.com:8080/x?y=1" })).status).toBe(201);
  });

  it("refuses reserved and hop-by-hop headers, bad patterns and channels", async () => {
    for (const name of ["Host", "content-type", "Webhook-Id", "X-Webhook-Signature", "connection", "User-Agent", "Transfer-Encoding"]) {
      const res = await create({ headers: { [name]: "x" } });
      expect(res.status, name).toBe(422);
      expect(res.body.errors[0].path).toBe(`/headers/${name}`);
    }
    expect((await create({ headers: { "X-Tenant": "t1" } })).body.headers).toEqual({ "X-Tenant": "t1" });
    const bad = await create({ events: ["order..created", "a b", "order.*x"], channels: ["has space"] });
    expect(bad.body.errors.map((e: { path: string }) => e.path)).toEqual(["/events/0", "/events/1", "/events/2", "/channels/0"]);
    expect((await create({ timeoutMs: 999 })).status).toBe(422);
    expect((await create({ timeoutMs: 30_001 })).status).toBe(422);
    expect((await create({ timeoutMs: 1000, rateLimit: 5 })).body).toMatchObject({ timeoutMs: 1000, rateLimit: 5 });
  });

  it("lists, changes and deletes endpoints", async () => {
    const app = await t.call("POST", "/api/v1/applications", { name: "lister" });
    const list = `/api/v1/applications/${app.body.id}/endpoints`;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await t.call("POST", list, { url: `https://example.com/${i}` })).body.id);
    const page1 = await t.call("GET", `${list}?limit=3`);
    expect(page1.body.data.map((e: { id: string }) => e.id)).toEqual(ids.slice(1).reverse());
    expect(page1.body.data[0].secret).toMatch(/…$/);
    const page2 = await t.call("GET", `${list}?limit=3&cursor=${page1.body.nextCursor}`);
    expect(page2.body).toMatchObject({ data: [{ id: ids[0] }], nextCursor: null });

    const id = ids[0]!;
    const patched = await t.call("PATCH", `${list}/${id}`, { url: "https://example.org/new", events: ["a.*"], channels: ["eu"], timeoutMs: 2000, disabled: true });
    expect(patched.body).toMatchObject({ url: "https://example.org/new", events: ["a.*"], channels: ["eu"], timeoutMs: 2000, status: "disabled", disabledReason: "manual" });
    const cleared = await t.call("PATCH", `${list}/${id}`, { events: null, channels: [], timeoutMs: null, disabled: false });
    expect(cleared.body).toMatchObject({ events: ["*"], channels: null, timeoutMs: null, status: "active", disabledReason: null });
    expect((await t.call("PATCH", `${list}/${id}`, { secret: generateSecret() })).body.errors).toEqual([{ path: "/secret", message: "is not a known field" }]);
    expect((await t.call("PATCH", `${list}/${id}`, { url: "ftp://x" })).status).toBe(422);
    expect((await t.call("PATCH", `${list}/${id}`, {})).status).toBe(200);

    expect((await t.call("DELETE", `${list}/${id}`)).status).toBe(204);
    expect((await t.call("GET", `${list}/${id}`)).status).toBe(404);
  });

  it("answers 404 naming what is missing", async () => {
    const ep = await create({});
    const unknownApp = await t.call("GET", `/api/v1/applications/nope/endpoints/${ep.body.id}`);
    expect(unknownApp.body.detail).toMatch(/application "nope"/);
    for (const id of ["ep_01ARZ3NDEKTSV4RRFFQ69G5FAV", "garbage"]) {
      const res = await t.call("GET", `${base}/${id}`);
      expect(res).toMatchObject({ status: 404, body: { code: "not_found" } });
      expect(res.body.detail).toMatch(/^endpoint/);
    }
    // An endpoint of another application is not found through this one.
    const other = await t.call("POST", "/api/v1/applications", { name: "other" });
    expect((await t.call("GET", `/api/v1/applications/${other.body.id}/endpoints/${ep.body.id}`)).status).toBe(404);
  });
});

describe("endpoint actions", () => {
  it("disables and enables (200 with the endpoint)", async () => {
    const ep = (await create({})).body;
    const off = await t.call("POST", `${base}/${ep.id}/disable`);
    expect(off).toMatchObject({ status: 200, body: { id: ep.id, status: "disabled", disabledReason: "manual" } });
    const on = await t.call("POST", `${base}/${ep.id}/enable`, {});
    expect(on).toMatchObject({ status: 200, body: { status: "active", disabledReason: null } });
    expect((await t.call("POST", `${base}/${ep.id}/enable`, { force: true })).status).toBe(422);
  });

  it("rotates the secret; both keep signing for 24 h", async () => {
    const ep = (await create({})).body;
    const rotated = await t.call("POST", `${base}/${ep.id}/secret/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(ep.secret);
    expect((await t.call("GET", `${base}/${ep.id}/secret`)).body.secret).toBe(rotated.body.secret);
    const appId = (await t.store.getApplication("petstore"))!.id;
    const row = await t.store.getEndpoint(appId, ep.id);
    expect(row!.previousSecret).toBe(ep.secret);
    expect(row!.previousSecretExpiresAt! - Date.now()).toBeGreaterThan(23.9 * 3_600_000);

    const chosen = generateSecret();
    expect((await t.call("POST", `${base}/${ep.id}/secret/rotate`, { secret: chosen })).body).toEqual({ secret: chosen });
    expect((await t.call("POST", `${base}/${ep.id}/secret/rotate`, { secret: "whsec_x" })).status).toBe(422);
  });

  it("sends a test event to that endpoint only", async () => {
    const ep = (await create({ events: ["order.*"] })).body;
    const bystander = (await create({})).body;
    const res = await t.call("POST", `${base}/${ep.id}/test`);
    expect(res.status).toBe(202);
    expect(res.body.messageId).toMatch(/^msg_/);
    const deliveries = await t.store.listDeliveries(res.body.messageId);
    expect(deliveries.map((d) => d.endpointId)).toEqual([ep.id]);
    expect(deliveries.map((d) => d.endpointId)).not.toContain(bystander.id);
    const msg = await t.call("GET", `/api/v1/applications/petstore/messages/${res.body.messageId}`);
    expect(msg.body).toMatchObject({ eventType: "webhook.test", payload: { eventType: "webhook.test", data: { endpointId: ep.id } } });

    const custom = await t.call("POST", `${base}/${ep.id}/test`, { eventType: "order.created" });
    expect(custom.status).toBe(202);
    expect((await t.call("POST", `${base}/${ep.id}/test`, { eventType: "bad type" })).status).toBe(422);
    await t.call("POST", `${base}/${ep.id}/disable`);
    expect((await t.call("POST", `${base}/${ep.id}/test`)).body.code).toBe("conflict");
  });

  it("recovers failed deliveries (409 while disabled), with attempts and stats", async () => {
    const app = await t.call("POST", "/api/v1/applications", { name: "recovery" });
    const eps = `/api/v1/applications/${app.body.id}/endpoints`;
    const ep = (await t.call("POST", eps, { url: "https://example.com/r" })).body;
    const since = new Date(Date.now() - 1000).toISOString();
    for (let i = 0; i < 3; i++) {
      expect((await t.call("POST", `/api/v1/applications/${app.body.id}/messages`, { eventType: "a.b", payload: { i } })).status).toBe(202);
    }
    expect(await recordAttempts(t.store, ep.id, { success: false, durationMs: 40 })).toBe(3);

    const attempts = await t.call("GET", `${eps}/${ep.id}/attempts?limit=2`);
    expect(attempts.body.data).toHaveLength(2);
    expect(attempts.body.data[0]).toEqual({
      id: expect.stringMatching(/^atmpt_/),
      messageId: expect.stringMatching(/^msg_/),
      endpointId: ep.id,
      attemptNumber: 1,
      url: "https://example.com/r",
      timestamp: expect.any(String),
      durationMs: 40,
      success: false,
      statusCode: 500,
      responseHeaders: { "content-type": "text/plain" },
      responseBody: "boom",
      errorKind: "http_status",
      errorMessage: "HTTP 500",
    });
    expect((await t.call("GET", `${eps}/${ep.id}/attempts?cursor=${attempts.body.nextCursor}`)).body.data).toHaveLength(1);

    const stats = await t.call("GET", `${eps}/${ep.id}/stats`);
    expect(stats.body).toMatchObject({ attempts: 3, succeeded: 0, failed: 3, successRate: 0 });
    const later = await t.call("GET", `${eps}/${ep.id}/stats?since=${new Date(Date.now() + 60_000).toISOString()}`);
    expect(later.body).toMatchObject({ attempts: 0, successRate: null });
    expect((await t.call("GET", `${eps}/${ep.id}/stats?since=yesterday`)).status).toBe(422);

    await t.call("POST", `${eps}/${ep.id}/disable`);
    const refused = await t.call("POST", `${eps}/${ep.id}/recover`, { since });
    expect(refused).toMatchObject({ status: 409, body: { code: "conflict" } });
    expect(refused.body.detail).toContain("enable it first");
    await t.call("POST", `${eps}/${ep.id}/enable`);
    const wakes = t.wakes();
    const recovered = await t.call("POST", `${eps}/${ep.id}/recover`, { since });
    expect(recovered).toMatchObject({ status: 202, body: { queued: 3 } });
    expect(t.wakes()).toBe(wakes + 1);
    expect((await t.call("POST", `${eps}/${ep.id}/recover`, {})).body.errors).toEqual([{ path: "/since", message: "is required" }]);
    expect((await t.call("POST", `${eps}/${ep.id}/recover`, { since: "last week" })).status).toBe(422);
    // A leap second passes the format check but not Date: still a 422, not a NaN in the store.
    expect((await t.call("POST", `${eps}/${ep.id}/recover`, { since: "2016-12-31T23:59:60Z" })).body.errors).toEqual([
      { path: "/since", message: expect.stringContaining("ISO-8601") },
    ]);
  });
});

describe("endpoint state changes against a delivering worker", () => {
  const KEY = "state-test-admin-key-0123456789";
  let herald: Herald;
  let closeHerald: () => Promise<void>;
  let receiver: Receiver;
  let api: FastifyInstance;
  beforeEach(async () => {
    ({ herald, close: closeHerald } = await openTestHerald({ HERALD_API_KEY: KEY, HERALD_API_RATE_LIMIT: "0" }));
    receiver = await startReceiver((_r, res) => {
      res.statusCode = 410; // Gone: the worker disables the endpoint at once
      res.end();
    });
    api = await buildApi({
      store: herald.store,
      config: herald.config,
      publisher: herald.publisher,
      logger: herald.logger,
      wake: () => herald.dispatcher?.wake(),
      checkUrl: (url) => herald.guard.checkUrl(url),
      catalog: herald.catalog,
      ops: herald.ops,
    });
    await herald.start();
  });
  afterEach(async () => {
    await api.close();
    await closeHerald();
    await receiver.close();
  });

  const call = async (method: "GET" | "POST" | "PATCH", url: string, body?: unknown) => {
    const res = await api.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${KEY}` }, ...(body === undefined ? {} : { payload: body as object }) });
    return { status: res.statusCode, body: res.json() };
  };
  const eventTypes = async (endpointId: string) => {
    await herald.ops.flush();
    const page = await herald.store.listOperationalEvents({ endpointId: endpointId as never }, { limit: 50 });
    return page.data.map((e) => e.type).filter((t) => t.startsWith("endpoint.")).reverse();
  };

  it("keeps a worker's automatic disable through a PATCH, and reports each real transition once", async () => {
    await call("POST", "/applications", { name: "Shop", uid: "shop" });
    const ep = (await call("POST", "/applications/shop/endpoints", { url: `${receiver.url}/hook` })).body;
    await call("POST", "/applications/shop/messages", { eventType: "order.created", payload: { id: 1 } });
    await eventually(async () => (await eventTypes(ep.id)).includes("endpoint.disabled"));
    expect((await call("GET", `/applications/shop/endpoints/${ep.id}`)).body).toMatchObject({ status: "disabled", disabledReason: "gone" });

    const patched = await call("PATCH", `/applications/shop/endpoints/${ep.id}`, { description: "orders" });
    expect(patched).toMatchObject({ status: 200, body: { description: "orders", status: "disabled", disabledReason: "gone" } });
    // Asking for what already is changes nothing: the failure rule's reason stays.
    expect((await call("PATCH", `/applications/shop/endpoints/${ep.id}`, { disabled: true })).body).toMatchObject({ status: "disabled", disabledReason: "gone" });
    expect((await call("POST", `/applications/shop/endpoints/${ep.id}/disable`)).body).toMatchObject({ status: "disabled", disabledReason: "gone" });
    expect((await call("POST", `/applications/shop/endpoints/${ep.id}/recover`, { since: new Date(0).toISOString() })).status).toBe(409);

    const [on, again] = await Promise.all([
      call("POST", `/applications/shop/endpoints/${ep.id}/enable`),
      call("POST", `/applications/shop/endpoints/${ep.id}/enable`),
    ]);
    expect([on.body.status, again.body.status]).toEqual(["active", "active"]);
    expect((await call("PATCH", `/applications/shop/endpoints/${ep.id}`, { disabled: false, metadata: { team: "a" } })).body).toMatchObject({
      status: "active",
      metadata: { team: "a" },
      description: "orders",
    });
    await call("PATCH", `/applications/shop/endpoints/${ep.id}`, { disabled: true });
    await call("POST", `/applications/shop/endpoints/${ep.id}/disable`);

    expect(await eventTypes(ep.id)).toEqual([
      "endpoint.created",
      "endpoint.disabled", // by the worker (410)
      "endpoint.updated", // the description
      "endpoint.enabled", // once, for two concurrent enables
      "endpoint.updated", // the metadata
      "endpoint.disabled", // PATCH disabled: true; the disable action after it changed nothing
    ]);
  });
});
