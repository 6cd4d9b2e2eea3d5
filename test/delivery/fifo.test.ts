import { afterEach, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import type { Application } from "../../src/store/model.js";
import { startArrivalsReceiver, upTo } from "../helpers/fifo-receiver.js";
import { createApp, eventually, openTestHerald } from "../helpers/herald.js";

/**
 * FIFO endpoints end to end, with real receivers: one message at a time, in
 * publish order, retries of the head holding back the rest, an exhausted head
 * ending, recoveries in the original order. On SQLite, or on PostgreSQL under
 * HERALD_TEST_STORE=postgres (`npm run test:postgres`); several workers on
 * PostgreSQL: test/process/fifo-workers.test.ts.
 */
describe("FIFO endpoints", () => {
  let herald: Herald;
  let close: (() => Promise<void>) | undefined;
  let receiver: Awaited<ReturnType<typeof startArrivalsReceiver>> | undefined;
  afterEach(async () => {
    await close?.();
    await receiver?.close();
    close = undefined;
    receiver = undefined;
  });

  async function setup(settings: Record<string, string> = {}) {
    ({ herald, close } = await openTestHerald(settings, { delivery: { pollIntervalMs: 50 } as never }));
    await herald.start();
  }
  const publish = (app: Application, ns: number[]) =>
    herald.publishBatch(
      app.id,
      ns.map((n) => ({ eventType: "order.updated", payload: { n } })),
    );
  const statuses = async (app: Application, endpointId: string) => {
    const out: string[] = [];
    for (const m of (await herald.store.listMessages(app.id, {}, { limit: 250 })).data.reverse()) {
      out.push((await herald.store.listDeliveries(m.id)).find((d) => d.endpointId === endpointId)!.status);
    }
    return out;
  };

  it("delivers 200 messages one at a time in publish order, while a plain endpoint of the same app gets them concurrently", async () => {
    await setup();
    receiver = await startArrivalsReceiver({ delayMs: 3 });
    const app = await createApp(herald);
    const fifo = await herald.createEndpoint(app.id, { url: `${receiver.url}/fifo`, ordering: "fifo" });
    expect(fifo.ordering).toBe("fifo");
    const plain = await herald.createEndpoint(app.id, { url: `${receiver.url}/plain` });
    expect(plain.ordering).toBe("none");
    // Two batches and single publishes, interleaved: publish order is the order of the acknowledgements.
    await publish(app, upTo(100));
    for (const n of [101, 102, 103]) await herald.publish({ app: app.id, eventType: "order.updated", payload: { n } });
    await publish(app, upTo(97).map((n) => n + 103));

    await eventually(() => receiver!.at("/fifo").order.length >= 200 && receiver!.at("/plain").order.length >= 200, 30_000);
    expect(receiver.at("/fifo").order).toEqual(upTo(200));
    expect(receiver.at("/fifo").maxConcurrent).toBe(1);
    expect(receiver.at("/plain").maxConcurrent).toBeGreaterThan(1);
  }, 40_000);

  it("holds the rest back while the head is retried: 3 fails twice, then everything arrives in order", async () => {
    await setup({ HERALD_RETRY_SCHEDULE: "0s,100ms,100ms,100ms" });
    receiver = await startArrivalsReceiver({ status: (n, seen) => (n === 3 && seen < 2 ? 500 : 200) });
    const app = await createApp(herald);
    await herald.createEndpoint(app.id, { url: `${receiver.url}/fifo`, ordering: "fifo" });
    await publish(app, upTo(10));
    await eventually(() => receiver!.at("/fifo").order.length >= 12, 15_000);
    expect(receiver.at("/fifo").order).toEqual([1, 2, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(receiver.at("/fifo").maxConcurrent).toBe(1);
  });

  it("a head that exhausts its schedule is failed, and the rest continue in order (the endpoint stays enabled)", async () => {
    await setup({ HERALD_RETRY_SCHEDULE: "0s,50ms" });
    receiver = await startArrivalsReceiver({ status: (n) => (n === 2 ? 500 : 200) });
    const app = await createApp(herald);
    const ep = await herald.createEndpoint(app.id, { url: `${receiver.url}/fifo`, ordering: "fifo" });
    await publish(app, upTo(6));
    await eventually(() => receiver!.at("/fifo").order.length >= 7, 15_000);
    expect(receiver.at("/fifo").order).toEqual([1, 2, 2, 3, 4, 5, 6]);
    const done = await eventually(async () => {
      const s = await statuses(app, ep.id);
      return s.every((x) => x !== "pending") ? s : null;
    });
    expect(done).toEqual(["succeeded", "failed", "succeeded", "succeeded", "succeeded", "succeeded"]);
    expect((await herald.endpoint(app.id, ep.id)).status).toBe("active");
  });

  it("a recovery replays the failed messages in their original order", async () => {
    await setup({ HERALD_RETRY_SCHEDULE: "0s" });
    let down = true;
    receiver = await startArrivalsReceiver({ status: () => (down ? 503 : 200) });
    const app = await createApp(herald);
    const ep = await herald.createEndpoint(app.id, { url: `${receiver.url}/fifo`, ordering: "fifo" });
    const since = new Date();
    await publish(app, upTo(20));
    await eventually(async () => (await statuses(app, ep.id)).filter((s) => s === "failed").length === 20, 15_000);
    expect(receiver.at("/fifo").order).toEqual(upTo(20)); // each tried once, in order

    down = false;
    expect(await herald.recover(app.id, ep.id, since)).toBe(20);
    await eventually(() => receiver!.at("/fifo").order.length >= 40, 15_000);
    expect(receiver.at("/fifo").order.slice(20)).toEqual(upTo(20));
    expect(receiver.at("/fifo").maxConcurrent).toBe(1);
  });

  it("a disabled FIFO endpoint's queue is skipped in order, and a recovery replays it in order", async () => {
    await setup();
    receiver = await startArrivalsReceiver();
    const app = await createApp(herald);
    const ep = await herald.createEndpoint(app.id, { url: `${receiver.url}/fifo`, ordering: "fifo", disabled: true });
    const since = new Date();
    await publish(app, upTo(5));
    expect(await statuses(app, ep.id)).toEqual(Array(5).fill("skipped"));
    await herald.setEndpointEnabled(app.id, ep.id, true);
    expect(await herald.recover(app.id, ep.id, since)).toBe(5);
    await eventually(() => receiver!.at("/fifo").order.length >= 5, 15_000);
    expect(receiver.at("/fifo").order).toEqual(upTo(5));
  });
});
