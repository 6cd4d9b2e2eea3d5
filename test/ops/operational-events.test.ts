import { afterEach, describe, expect, it } from "vitest";
import { generateSecret } from "../../src/signing/secret.js";
import type { Herald } from "../../src/herald.js";
import { ensureOperationalEndpoint, OPERATIONAL_APP_UID } from "../../src/ops/setup.js";
import { verifyWebhook } from "../../src/receiver/index.js";
import { eventually, openTestHerald } from "../helpers/herald.js";
import { type Receiver, type Received, startReceiver } from "../helpers/receiver.js";

/**
 * Operational events (contract §5) through Herald itself: real receivers on
 * 127.0.0.1, a real HTTP API, the real dispatcher.
 */

const KEY = "ops-test-admin-key-0123456789";
const OPS_SECRET = generateSecret();

interface OpsBody {
  type: string;
  timestamp: string;
  data: Record<string, unknown> & { lastAttempt?: Record<string, unknown> };
}

let herald: Herald | undefined;
let close: (() => Promise<void>) | undefined;
const receivers: Receiver[] = [];

afterEach(async () => {
  await close?.();
  herald = close = undefined;
  for (const r of receivers.splice(0)) await r.close();
});

async function start(settings: Record<string, string> = {}) {
  const ops = await startReceiver();
  receivers.push(ops);
  ({ herald, close } = await openTestHerald(
    {
      HERALD_API_KEY: KEY,
      HERALD_RETRY_SCHEDULE: "0s,150ms,150ms",
      HERALD_OPERATIONAL_WEBHOOK_URL: `${ops.url}/ops`,
      HERALD_OPERATIONAL_WEBHOOK_SECRET: OPS_SECRET,
      ...settings,
    },
    { delivery: { pollIntervalMs: 30 } as never },
  ));
  await herald!.start();
  const { url } = await herald!.listen();
  const call = async (method: string, path: string, body?: unknown, token = KEY) => {
    const res = await fetch(`${url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON
    return { status: res.status, body: (res.status === 204 ? null : await res.json()) as any };
  };
  return { ops, call };
}

/** The operational webhooks received so far, each verified with the configured secret. */
function events(ops: Receiver): OpsBody[] {
  return ops.received.map((r: Received) => {
    const body = verifyWebhook<OpsBody>(r.body, r.headers as Record<string, string>, OPS_SECRET);
    expect(r.headers["x-webhook-event"]).toBe(body.type);
    return body;
  });
}

const waitForType = (ops: Receiver, type: string, n = 1) => eventually(() => events(ops).filter((e) => e.type === type).length >= n, 8000);

describe("operational events", () => {
  it("report endpoint changes through the API, signed, to the operational URL, and list them", async () => {
    const { ops, call } = await start();
    const app = (await call("POST", "/applications", { name: "Shop", uid: "shop" })).body;
    const ep = (await call("POST", "/applications/shop/endpoints", { url: "https://example.com/hook" })).body;
    await call("PATCH", `/applications/shop/endpoints/${ep.id}`, { description: "changed" });
    await call("POST", `/applications/shop/endpoints/${ep.id}/disable`);
    await call("POST", `/applications/shop/endpoints/${ep.id}/enable`);
    await call("DELETE", `/applications/shop/endpoints/${ep.id}`);
    await waitForType(ops, "endpoint.deleted");
    const got = events(ops);
    expect(got.map((e) => e.type)).toEqual(["endpoint.created", "endpoint.updated", "endpoint.disabled", "endpoint.enabled", "endpoint.deleted"]);
    expect(got[0]).toMatchObject({ type: "endpoint.created", data: { appId: app.id, appUid: "shop", endpointId: ep.id } });
    expect(got[2]!.data).toMatchObject({ reason: "manual", trigger: "manual", failSince: null });
    expect(Date.parse(got[0]!.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(ops.received[0]!.path).toBe("/ops");

    const list = await call("GET", "/operational-events?app=shop");
    expect(list.status).toBe(200);
    expect(list.body.data.map((e: { type: string }) => e.type)).toEqual(["endpoint.deleted", "endpoint.enabled", "endpoint.disabled", "endpoint.updated", "endpoint.created"]);
    expect(list.body.data[4]).toMatchObject({ id: expect.stringMatching(/^opev_/), appId: app.id, endpointId: ep.id, messageId: null, data: got[0]!.data });
    expect((await call("GET", "/operational-events?type=endpoint.created&limit=1")).body.data).toHaveLength(1);
    expect((await call("GET", "/operational-events?type=nope")).status).toBe(422);

    // The internal application is an ordinary one: its deliveries are logged like any other.
    const internal = await call("GET", `/applications/${OPERATIONAL_APP_UID}/messages?eventType=endpoint.created`);
    expect(internal.body.data).toHaveLength(1);
    expect(internal.body.data[0].payload).toEqual(got[0]);
  });

  it("report failing, recovered and exhausted deliveries, and the endpoint the failure rule disabled", async () => {
    const { ops, call } = await start();
    const flaky = await startReceiver((_r, res, i) => {
      res.statusCode = i === 0 ? 500 : 200;
      res.end();
    });
    const dead = await startReceiver((_r, res) => {
      res.statusCode = 503;
      res.end("down");
    });
    receivers.push(flaky, dead);
    const app = (await call("POST", "/applications", { name: "Pets", uid: "pets" })).body;
    const flakyEp = (await call("POST", "/applications/pets/endpoints", { url: flaky.url, events: ["pet.*"] })).body;
    const deadEp = (await call("POST", "/applications/pets/endpoints", { url: dead.url, events: ["order.*"] })).body;

    const recovered = (await call("POST", "/applications/pets/messages", { eventType: "pet.adopted", payload: { petId: 1 } })).body;
    const exhausted = (await call("POST", "/applications/pets/messages", { eventType: "order.created", payload: { orderId: 1 } })).body;
    await waitForType(ops, "message.attempt.recovered");
    await waitForType(ops, "endpoint.disabled");
    await waitForType(ops, "message.attempt.exhausted");

    const got = events(ops);
    const of = (type: string, endpointId: string) => got.filter((e) => e.type === type && e.data.endpointId === endpointId);
    expect(of("message.attempt.failing", flakyEp.id)).toHaveLength(1);
    expect(of("message.attempt.failing", flakyEp.id)[0]!.data).toMatchObject({
      appId: app.id,
      appUid: "pets",
      messageId: recovered.id,
      eventType: "pet.adopted",
      lastAttempt: { attemptNumber: 1, responseStatusCode: 500, errorKind: "http_status" },
    });
    expect(of("message.attempt.recovered", flakyEp.id)[0]!.data).toMatchObject({ messageId: recovered.id, lastAttempt: { attemptNumber: 2, responseStatusCode: 200, errorKind: null } });
    expect(of("message.attempt.exhausted", flakyEp.id)).toHaveLength(0);

    // Failing once (the first attempt), then exhausted after the third.
    expect(of("message.attempt.failing", deadEp.id)).toHaveLength(1);
    expect(of("message.attempt.exhausted", deadEp.id)[0]!.data).toMatchObject({ messageId: exhausted.id, lastAttempt: { attemptNumber: 3, responseStatusCode: 503 } });
    const disabled = of("endpoint.disabled", deadEp.id)[0]!.data;
    expect(disabled).toMatchObject({ appId: app.id, reason: "failing", trigger: "automatic" });
    expect(Date.parse(disabled.failSince as string)).toBeLessThanOrEqual(Date.now());
    expect(of("message.attempt.recovered", deadEp.id)).toHaveLength(0);

    // The same events are recorded, with the message they are about.
    const recorded = await call("GET", `/operational-events?endpointId=${deadEp.id}`);
    expect(recorded.body.data.map((e: { type: string }) => e.type)).toEqual(expect.arrayContaining(["endpoint.disabled", "message.attempt.exhausted", "message.attempt.failing", "endpoint.created"]));
    expect(recorded.body.data.find((e: { type: string }) => e.type === "message.attempt.exhausted").messageId).toBe(exhausted.id);

    // A portal token sees its own application's events only.
    const other = (await call("POST", "/applications", { name: "Other" })).body;
    await call("POST", `/applications/${other.id}/endpoints`, { url: "https://example.com/" });
    const token = (await call("POST", "/applications/pets/portal-token")).body.token;
    const mine = await call("GET", "/operational-events", undefined, token);
    expect(mine.body.data.length).toBeGreaterThan(0);
    expect(mine.body.data.every((e: { appId: string }) => e.appId === app.id)).toBe(true);
    expect((await call("GET", `/operational-events?app=${other.id}`, undefined, token)).status).toBe(404);
  });

  it("never feed a failing operational webhook its own failures", async () => {
    const { ops, call } = await start();
    ops.behave((_r, res, i) => {
      res.statusCode = i === 0 ? 500 : 200;
      res.end();
    });
    await call("POST", "/applications", { name: "A", uid: "a" });
    await call("POST", "/applications/a/endpoints", { url: "https://example.com/" });
    await eventually(() => ops.received.length >= 2, 8000);
    await new Promise((r) => setTimeout(r, 400));
    const bodies = ops.received.map((r) => JSON.parse(r.body) as OpsBody);
    // The same endpoint.created, attempted twice (the retry), and nothing about the operational endpoint itself.
    expect(bodies.map((b) => b.type)).toEqual(["endpoint.created", "endpoint.created"]);
    expect(ops.received[1]!.headers["x-webhook-attempt"]).toBe("2");
    const opsApp = await herald!.application(OPERATIONAL_APP_UID);
    const aboutItself = await herald!.store.listOperationalEvents({ appId: opsApp.id }, { limit: 50 });
    expect(aboutItself.data.map((e) => e.type)).toEqual(["message.attempt.recovered", "message.attempt.failing"]);
  });

  it("are recorded even without an operational webhook, and the library reports its changes too", async () => {
    ({ herald, close } = await openTestHerald({ HERALD_API_KEY: KEY }));
    const app = await herald!.createApplication({ name: "lib", uid: "lib" });
    const ep = await herald!.createEndpoint("lib", { url: "https://example.com/" });
    await herald!.updateEndpoint("lib", ep.id, { description: "x" });
    await herald!.setEndpointEnabled("lib", ep.id, false);
    await herald!.deleteEndpoint("lib", ep.id);
    const page = await herald!.store.listOperationalEvents({ appId: app.id }, { limit: 10 });
    expect(page.data.map((e) => e.type)).toEqual(["endpoint.deleted", "endpoint.disabled", "endpoint.updated", "endpoint.created"]);
    expect(await herald!.store.getApplication(OPERATIONAL_APP_UID)).toBeNull();
  });
});

describe("the operational endpoint's set-up", () => {
  it("is idempotent, follows a changed URL and secret, and leaves one endpoint when processes race", async () => {
    ({ herald, close } = await openTestHerald({ HERALD_OPERATIONAL_WEBHOOK_URL: "https://ops.example.com/a" }));
    const store = herald!.store;
    // Set up once by open(); two more processes racing create nothing more.
    const [appId] = await Promise.all([
      ensureOperationalEndpoint(store, { url: "https://ops.example.com/a", secret: undefined }),
      ensureOperationalEndpoint(store, { url: "https://ops.example.com/a", secret: undefined }),
    ]);
    const first = (await store.listEndpoints(appId, { limit: 10 })).data;
    expect(first).toHaveLength(1);
    expect(first[0]!.secret).toMatch(/^whsec_/);
    expect(first[0]!.metadata).toEqual({ herald: "operational-webhook" });
    // A restart with another URL and a configured secret: followed, the old secret signing on for 24 h.
    await ensureOperationalEndpoint(store, { url: "https://ops.example.com/b", secret: OPS_SECRET });
    await ensureOperationalEndpoint(store, { url: "https://ops.example.com/b", secret: OPS_SECRET });
    const after = (await store.listEndpoints(appId, { limit: 10 })).data;
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: first[0]!.id, url: "https://ops.example.com/b", secret: OPS_SECRET, previousSecret: first[0]!.secret });
  });

  it("keeps one endpoint when two processes create it at once", async () => {
    ({ herald, close } = await openTestHerald());
    const store = herald!.store;
    const ids = await Promise.all([1, 2, 3].map(() => ensureOperationalEndpoint(store, { url: "https://ops.example.com/", secret: undefined })));
    expect(new Set(ids).size).toBe(1);
    expect((await store.listEndpoints(ids[0]!, { limit: 10 })).data).toHaveLength(1);
  });

  it("refuses a secret without a URL, and a malformed secret", async () => {
    const { resolveConfig } = await import("../../src/config/config.js");
    expect(() => resolveConfig({ HERALD_OPERATIONAL_WEBHOOK_SECRET: OPS_SECRET })).toThrow(/HERALD_OPERATIONAL_WEBHOOK_URL/);
    expect(() => resolveConfig({ HERALD_OPERATIONAL_WEBHOOK_URL: "https://x.example/", HERALD_OPERATIONAL_WEBHOOK_SECRET: "nope" })).toThrow(/HERALD_OPERATIONAL_WEBHOOK_SECRET/);
    expect(() => resolveConfig({ HERALD_OPERATIONAL_WEBHOOK_URL: "ftp://x.example/" })).toThrow(/HERALD_OPERATIONAL_WEBHOOK_URL/);
  });
});
