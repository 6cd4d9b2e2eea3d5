import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import type { Application } from "../../src/store/model.js";
import type { Store } from "../../src/store/store.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { createApp, createEndpoint, eventually, openTestHerald, sleep, type TestDatabase } from "../helpers/herald.js";

describe("publishing and fan-out", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let query: TestDatabase["query"];
  let receiver: Receiver;
  let app: Application;

  beforeEach(async () => {
    ({ herald, close, query } = await openTestHerald());
    await herald.start();
    receiver = await startReceiver();
    app = await createApp(herald);
  });
  afterEach(async () => {
    await close();
    await receiver.close();
  });

  const publish = (eventType: string, channels: string[] | null = null, eventId: string | null = null) =>
    herald.publish({ appId: app.id, eventType, payload: JSON.stringify({ eventType }), channels, eventId });

  it("fans out to the endpoints whose event filters and channels match", async () => {
    const all = await createEndpoint(herald, app, `${receiver.url}/all`);
    const star = await createEndpoint(herald, app, `${receiver.url}/star`, { events: ["*"] });
    const orders = await createEndpoint(herald, app, `${receiver.url}/orders`, { events: ["order.*"] });
    const created = await createEndpoint(herald, app, `${receiver.url}/created`, { events: ["*.created", "pet.adopted"] });
    const eu = await createEndpoint(herald, app, `${receiver.url}/eu`, { channels: ["eu"] });
    const cases: [string, string[] | null, string[]][] = [
      ["order.created", null, [all.id, star.id, orders.id, created.id]],
      ["order.status_changed", ["eu"], [all.id, star.id, orders.id, eu.id]],
      ["order.status.changed", null, [all.id, star.id]], // `*` matches one segment only
      ["pet.adopted", ["us"], [all.id, star.id, created.id]],
      ["order", null, [all.id, star.id]],
    ];
    for (const [type, channels, expected] of cases) {
      const { message } = await publish(type, channels);
      const deliveries = await herald.store.listDeliveries(message.id);
      expect(deliveries.map((d) => d.endpointId).sort(), type).toEqual([...expected].sort());
    }
    await receiver.waitFor(4 + 4 + 2 + 3 + 2);
  });

  it("dedups on the idempotency key: same message, no second delivery", async () => {
    await createEndpoint(herald, app, receiver.url);
    const first = await publish("a.b", null, "order-42-paid");
    const again = await publish("a.b", null, "order-42-paid");
    const concurrent = await Promise.all([publish("a.c", null, "k2"), publish("a.c", null, "k2"), publish("a.c", null, "k2")]);
    expect(first.created).toBe(true);
    expect(again.created).toBe(false);
    expect(again.message.id).toBe(first.message.id);
    expect(new Set(concurrent.map((r) => r.message.id)).size).toBe(1);
    expect(concurrent.filter((r) => r.created)).toHaveLength(1);
    await receiver.waitFor(2);
    await sleep(200);
    expect(receiver.received).toHaveLength(2);
    // Keys are per application.
    const other = await createApp(herald, "other");
    const elsewhere = await herald.publish({ appId: other.id, eventType: "a.b", payload: "{}", channels: null, eventId: "order-42-paid" });
    expect(elsewhere.created).toBe(true);
  });

  it("shares one commit among concurrent publishes (group commit)", async () => {
    await createEndpoint(herald, app, receiver.url);
    const store = herald.store as Store;
    const original = store.publish.bind(store);
    const batches: number[] = [];
    store.publish = async (batch, options) => {
      batches.push(batch.length);
      return original(batch, options);
    };
    const n = 300;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => publish(`e.${i}`)));
    expect(new Set(results.map((r) => r.message.id)).size).toBe(n);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(n);
    expect(batches.length).toBeLessThanOrEqual(4);
    await receiver.waitFor(n);
  });

  it("answers only after the message is in the database", async () => {
    await createEndpoint(herald, app, receiver.url);
    const { message } = await publish("a.b");
    // A second, independent connection sees the row the moment publish resolves.
    expect(await query("SELECT id FROM messages WHERE id = ?", message.id)).toEqual([{ id: message.id }]);
    expect(await query("SELECT COUNT(*) AS n FROM deliveries WHERE message_id = ?", message.id)).toEqual([{ n: 1 }]);
  });

  it("sends the test event to one endpoint only, even outside its filter", async () => {
    const target = await createEndpoint(herald, app, `${receiver.url}/target`, { events: ["order.*"] });
    await createEndpoint(herald, app, `${receiver.url}/other`);
    const { message } = await herald.publish({ appId: app.id, eventType: "webhook.test", payload: "{}", channels: null, eventId: null, only: target.id });
    const [req] = await receiver.waitFor(1);
    await sleep(100);
    expect(receiver.received).toHaveLength(1);
    expect(req!.path).toBe("/target");
    expect(req!.headers["x-webhook-event"]).toBe("webhook.test");
    expect((await herald.store.listDeliveries(message.id)).map((d) => d.endpointId)).toEqual([target.id]);
  });

  it("resends a delivered message, continuing the attempt count", async () => {
    const ep = await createEndpoint(herald, app, receiver.url);
    const { message } = await publish("a.b");
    await receiver.waitFor(1);
    await eventually(async () => (await herald.store.listDeliveries(message.id))[0]?.status === "succeeded");
    await herald.store.resend(message, ep.id, Date.now());
    herald.dispatcher!.wake();
    const reqs = await receiver.waitFor(2);
    expect(reqs[1]!.headers["x-webhook-attempt"]).toBe("2");
    expect(reqs[1]!.headers["webhook-id"]).toBe(message.id);
  });
});

describe("graceful stop", () => {
  it("waits for in-flight attempts and records them before closing", async () => {
    const { herald, close, query } = await openTestHerald();
    const receiver = await startReceiver((_r, res) => void setTimeout(() => res.end("late"), 400));
    try {
      await herald.start();
      const app = await createApp(herald);
      await createEndpoint(herald, app, receiver.url);
      const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
      await receiver.waitFor(1);
      await herald.stop();
      expect(await query("SELECT status, attempts FROM deliveries WHERE message_id = ?", message.id)).toEqual([{ status: "succeeded", attempts: 1 }]);
      expect(await query("SELECT response_body FROM attempts WHERE message_id = ?", message.id)).toEqual([{ response_body: "late" }]);
    } finally {
      await close();
      await receiver.close();
    }
  });

  it("releases what it could not finish within the deadline, for the next run", async () => {
    const { herald, close, query } = await openTestHerald({}, { delivery: { shutdownTimeoutMs: 200 } as never });
    const receiver = await startReceiver(() => {}); // never answers
    try {
      await herald.start();
      const app = await createApp(herald);
      await createEndpoint(herald, app, receiver.url);
      const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
      await receiver.waitFor(1);
      const started = Date.now();
      await herald.stop();
      expect(Date.now() - started).toBeLessThan(2000);
      const [row] = await query<{ status: string; lease_owner: string | null; next_attempt_at: number }>(
        "SELECT status, lease_owner, next_attempt_at FROM deliveries WHERE message_id = ?",
        message.id,
      );
      expect(row!.status).toBe("pending");
      expect(row!.lease_owner).toBeNull();
      expect(row!.next_attempt_at).toBeLessThanOrEqual(Date.now());
    } finally {
      await close();
      await receiver.close();
    }
  });
});
