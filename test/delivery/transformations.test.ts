import { createHmac } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import type { Application, Endpoint } from "../../src/store/model.js";
import { createApp, eventually, openTestHerald, sleep } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

interface AttemptRow {
  success: number | boolean;
  error_kind: string | null;
  error_message: string | null;
  url: string;
}

describe("transformations on real deliveries", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let query: Awaited<ReturnType<typeof openTestHerald>>["query"];
  let receiver: Receiver;
  let other: Receiver;
  let app: Application;

  beforeEach(async () => {
    // One retry soon after the first attempt, so a failed transformation shows the schedule at work.
    // 500 ms per handler run, not the default 100 ms: a handler that throws at once must not time out on a starved machine.
    ({ herald, close, query } = await openTestHerald({ HERALD_RETRY_SCHEDULE: "0s,200ms", HERALD_TRANSFORM_TIMEOUT: "500ms" }));
    await herald.start();
    receiver = await startReceiver();
    other = await startReceiver();
    app = await createApp(herald);
  });
  afterEach(async () => {
    await close();
    await receiver.close();
    await other.close();
  });

  const endpointWith = (code: string, extra: Record<string, unknown> = {}): Promise<Endpoint> =>
    herald.createEndpoint(app.id, { url: `${receiver.url}/hooks`, transformation: { code, enabled: true }, ...extra });
  const publish = async (payload: unknown, eventType = "order.created") =>
    (await herald.publish({ appId: app.id, eventType, payload: JSON.stringify(payload), channels: null, eventId: null })).message;
  const attemptsOf = (endpointId: string) =>
    query<AttemptRow>("SELECT success, error_kind, error_message, url FROM attempts WHERE endpoint_id = ? ORDER BY id", endpointId);
  const deliveryOf = async (endpointId: string) =>
    (await query<{ status: string; attempts: number }>("SELECT status, attempts FROM deliveries WHERE endpoint_id = ?", endpointId))[0];

  it("sends the transformed payload, signed after the transformation", async () => {
    const ep = await endpointWith(`function handler(webhook) {
      webhook.payload = { text: "Order " + webhook.payload.id + " for " + webhook.payload.amount + " EUR" };
      webhook.headers["x-slack-style"] = "yes";
      return webhook;
    }`);
    const message = await publish({ id: "ord_7", amount: 12 });
    const [req] = await receiver.waitFor(1);
    expect(req!.method).toBe("POST");
    expect(req!.body).toBe('{"text":"Order ord_7 for 12 EUR"}');
    expect(req!.headers["x-slack-style"]).toBe("yes");
    const h = req!.headers;
    const headers = { "webhook-id": String(h["webhook-id"]), "webhook-timestamp": String(h["webhook-timestamp"]), "webhook-signature": String(h["webhook-signature"]) };
    expect(headers["webhook-id"]).toBe(message.id);
    expect(new StandardWebhook(ep.secret).verify(req!.body, headers)).toEqual({ text: "Order ord_7 for 12 EUR" });
    expect(h["x-webhook-signature"]).toBe(createHmac("sha256", ep.secret).update(req!.body).digest("hex"));
    expect(await eventually(async () => (await deliveryOf(ep.id))?.status === "succeeded")).toBe(true);
  });

  it("sends to the URL and with the method the handler chose, and announces its event type", async () => {
    const ep = await endpointWith(`function handler(webhook) {
      webhook.url = ${JSON.stringify(`${other.url}/elsewhere?tenant=`)} + webhook.payload.tenant;
      webhook.method = "PUT";
      webhook.eventType = "order.renamed";
      return webhook;
    }`);
    await publish({ tenant: "acme" });
    const [req] = await other.waitFor(1);
    expect(req!.method).toBe("PUT");
    expect(req!.path).toBe("/elsewhere?tenant=acme");
    expect(req!.headers["x-webhook-event"]).toBe("order.renamed");
    expect(new StandardWebhook(ep.secret).verify(req!.body, req!.headers as Record<string, string>)).toEqual({ tenant: "acme" });
    expect(receiver.received).toHaveLength(0);
    const [attempt] = await eventually(() => attemptsOf(ep.id).then((rows) => (rows.length > 0 ? rows : null)));
    expect(attempt!.url).toBe(`${other.url}/elsewhere?tenant=acme`);
  });

  it("sends nothing when the handler cancels: the delivery is skipped with one attempt saying so, never retried", async () => {
    const ep = await endpointWith("function handler(webhook) { webhook.cancel = webhook.payload.amount < 100; return webhook; }");
    await publish({ amount: 5 });
    await publish({ amount: 500 });
    await receiver.waitFor(1);
    const deliveries = await eventually(async () => {
      const rows = await query<{ status: string; attempts: number }>("SELECT status, attempts FROM deliveries WHERE endpoint_id = ? ORDER BY id", ep.id);
      return rows.every((r) => r.status !== "pending") ? rows : null;
    });
    expect(deliveries.map((d) => [d.status, Number(d.attempts)])).toEqual([
      ["skipped", 1],
      ["succeeded", 1],
    ]);
    await sleep(400); // past the retry delay: nothing more happens
    expect(receiver.received).toHaveLength(1);
    const attempts = await attemptsOf(ep.id);
    expect(attempts).toHaveLength(2);
    expect(attempts.filter((a) => !a.success)).toMatchObject([
      { error_kind: "cancelled", error_message: "cancelled by the endpoint's transformation: nothing was sent" },
    ]);
    expect((await herald.endpoint(app.id, ep.id)).status).toBe("active");
  });

  it.each([
    ["throws", "function handler(w) { return w.payload.missing.field; }", /^handler threw: TypeError: /],
    ["loops", "function handler(w) { while (true) {} }", /^timed out after 500 ms$/],
    ["allocates too much", "function handler(w) { w.payload = { big: 'x'.repeat(64 * 1024 * 1024) }; return w; }", /^ran out of memory \(the limit is 16 MiB\)$/],
    ["returns undefined", "function handler(w) { w.payload = {}; }", /^handler threw: TypeError: handler returned undefined/],
    ["returns a string payload", "function handler(w) { w.payload = 'x'; return w; }", /^handler returned an invalid webhook: payload must be a JSON object$/],
    ["returns a bad URL", "function handler(w) { w.url = 'not a url'; return w; }", /^handler returned an invalid webhook: url must not contain spaces/],
    ["uses require", "function handler(w) { require('fs'); return w; }", /^handler threw: ReferenceError: .*require/],
    ["uses process", "function handler(w) { process.exit(1); return w; }", /^handler threw: ReferenceError: .*process/],
    ["uses fetch", "function handler(w) { fetch('http://127.0.0.1/'); return w; }", /^handler threw: ReferenceError: .*fetch/],
    ["uses setTimeout", "function handler(w) { setTimeout(() => {}, 1); return w; }", /^handler threw: ReferenceError: .*setTimeout/],
  ])("fails the attempt when the handler %s, saying why, and retries on the schedule", async (_name, code, message) => {
    const ep = await endpointWith(code);
    await publish({ id: 1 });
    const attempts = await eventually(() => attemptsOf(ep.id).then((rows) => (rows.length >= 2 ? rows : null)));
    for (const attempt of attempts) {
      expect(Boolean(attempt.success)).toBe(false);
      expect(attempt.error_kind).toBe("transformation_failed");
      expect(attempt.error_message).toMatch(message);
    }
    expect(await eventually(async () => (await deliveryOf(ep.id))?.status === "failed")).toBe(true);
    expect(receiver.received).toHaveLength(0);
  });

  it("applies a changed transformation to the next deliveries", async () => {
    const ep = await endpointWith("function handler(w) { w.payload = { v: 1 }; return w; }");
    await publish({ n: 1 });
    await receiver.waitFor(1);
    await herald.updateEndpoint(app.id, ep.id, { transformation: { code: "function handler(w) { w.payload = { v: 2 }; return w; }" } });
    await publish({ n: 2 });
    // An attempt uses the endpoint as it is when the attempt is made: wait before the next change.
    await receiver.waitFor(2);
    await herald.updateEndpoint(app.id, ep.id, { transformation: null });
    await publish({ n: 3 });
    const got = await receiver.waitFor(3);
    expect(got.map((r) => r.body)).toEqual(['{"v":1}', '{"v":2}', '{"n":3}']);
  });

  it("sends the stored payload unchanged while the transformation is disabled", async () => {
    const ep = await herald.createEndpoint(app.id, {
      url: `${receiver.url}/hooks`,
      transformation: { code: "function handler(w) { w.payload = { changed: true }; return w; }", enabled: false },
    });
    expect(ep.transformation).toEqual({ code: "function handler(w) { w.payload = { changed: true }; return w; }", enabled: false });
    await publish({ id: "as-is" });
    const [req] = await receiver.waitFor(1);
    expect(req!.body).toBe('{"id":"as-is"}');
  });

});

describe("a transformation's URL", () => {
  it("goes through the SSRF guard like any other: a loopback target is blocked where loopback is not allowed", async () => {
    const { herald, close, query } = await openTestHerald({ HERALD_ALLOWED_NETWORKS: "", HERALD_RETRY_SCHEDULE: "0s" });
    const receiver = await startReceiver();
    try {
      await herald.start();
      const app = await createApp(herald);
      const code = `function handler(w) { w.url = ${JSON.stringify(`${receiver.url}/sneaky`)}; return w; }`;
      const ep = await herald.createEndpoint(app.id, { url: "https://example.com/hooks", transformation: { code, enabled: true } });
      await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
      const [attempt] = await eventually(() =>
        query<AttemptRow>("SELECT error_kind, url FROM attempts WHERE endpoint_id = ?", ep.id).then((r) => (r.length > 0 ? r : null)),
      );
      expect(attempt).toMatchObject({ error_kind: "blocked", url: `${receiver.url}/sneaky` });
      expect(receiver.received).toHaveLength(0);
    } finally {
      await close();
      await receiver.close();
    }
  });
});

describe("a looping transformation", () => {
  it("delays no other endpoint's delivery, transformed or not", async () => {
    // A long limit, so "still running" is unmistakable on a busy machine.
    const { herald, close, query } = await openTestHerald({ HERALD_TRANSFORM_TIMEOUT: "3s" });
    const receiver = await startReceiver();
    try {
      await herald.start();
      const app = await createApp(herald);
      const transformed = await herald.createEndpoint(app.id, {
        url: `${receiver.url}/transformed`,
        transformation: { code: "function handler(w) { w.payload.seen = true; return w; }", enabled: true },
      });
      await herald.createEndpoint(app.id, { url: `${receiver.url}/plain` });
      const publish = (payload: unknown) => herald.publish({ appId: app.id, eventType: "order.created", payload: JSON.stringify(payload), channels: null, eventId: null });
      await publish({ warm: true }); // the sandbox threads start on first use
      await receiver.waitFor(2);

      const looping = await herald.createEndpoint(app.id, { url: `${receiver.url}/looping`, transformation: { code: "function handler(w) { while (true) {} }", enabled: true } });
      await sleep(50);
      const started = Date.now();
      await publish({ id: 2 });
      const arrived = (await receiver.waitFor(4)).slice(2);
      const elapsed = Math.max(...arrived.map((r) => r.at)) - started;
      expect(arrived.map((r) => r.path).sort()).toEqual(["/plain", "/transformed"]);
      expect(JSON.parse(arrived.find((r) => r.path === "/transformed")!.body)).toEqual({ id: 2, seen: true });
      // …while the looping handler still runs: its attempt is not recorded yet.
      expect(await query("SELECT id FROM attempts WHERE endpoint_id = ?", looping.id)).toEqual([]);
      expect(elapsed).toBeLessThan(1000);
      const [attempt] = await eventually(() => query<AttemptRow>("SELECT error_message FROM attempts WHERE endpoint_id = ?", looping.id).then((r) => (r.length > 0 ? r : null)));
      expect(attempt!.error_message).toBe("timed out after 3000 ms");
      expect(transformed.transformation?.enabled).toBe(true);
    } finally {
      await close();
      await receiver.close();
    }
  });
});
