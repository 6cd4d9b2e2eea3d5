import { afterEach, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import type { Endpoint } from "../../src/store/model.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { createApp, createEndpoint, eventually, openTestHerald, sleep } from "../helpers/herald.js";

/** The seed's schedule compressed 1000x in spirit: immediately, then 200 ms, then 400 ms. */
const SCHEDULE = { HERALD_RETRY_SCHEDULE: "0s,200ms,400ms" };

describe("retries and disabling", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;

  async function setup(settings: Record<string, string> = SCHEDULE) {
    ({ herald, close } = await openTestHerald(settings, { delivery: { pollIntervalMs: 50 } as never }));
    await herald.start();
    receiver = await startReceiver();
  }
  afterEach(async () => {
    await close?.();
    await receiver?.close();
  });

  const endpoint = async (id: Endpoint["id"], appId: Endpoint["appId"]) => (await herald.store.getEndpoint(appId, id))!;

  it("retries on the schedule with jitter, counting attempts, and succeeds", async () => {
    await setup();
    receiver.behave((_r, res, i) => {
      res.statusCode = i < 2 ? 500 : 200;
      res.end();
    });
    const app = await createApp(herald);
    await createEndpoint(herald, app, receiver.url);
    const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: '{"n":1}', channels: null, eventId: null });
    const reqs = await receiver.waitFor(3);
    expect(reqs.map((r) => r.headers["x-webhook-attempt"])).toEqual(["1", "2", "3"]);
    expect(new Set(reqs.map((r) => r.headers["webhook-id"]))).toEqual(new Set([message.id]));
    const gap1 = reqs[1]!.at - reqs[0]!.at;
    const gap2 = reqs[2]!.at - reqs[1]!.at;
    expect(gap1).toBeGreaterThanOrEqual(180 - 5); // 200 ms - 10 % jitter
    expect(gap1).toBeLessThan(200 * 1.1 + 300);
    expect(gap2).toBeGreaterThanOrEqual(360 - 5);
    const [d] = await eventually(async () => {
      const ds = await herald.store.listDeliveries(message.id);
      return ds[0]?.status === "succeeded" ? ds : null;
    });
    expect(d!.attempts).toBe(3);
    const attempts = await herald.store.listMessageAttempts(message.id, { limit: 10 });
    expect(attempts.data.map((a) => [a.attemptNumber, a.statusCode, a.success])).toEqual([
      [3, 200, true],
      [2, 500, false],
      [1, 500, false],
    ]);
    expect(attempts.data[1]!.errorKind).toBe("http_status");
  });

  it("fails the delivery after the last attempt and disables an endpoint that never succeeded", async () => {
    await setup();
    receiver.behave((_r, res) => {
      res.statusCode = 500;
      res.end("boom");
    });
    const app = await createApp(herald);
    const ep = await createEndpoint(herald, app, receiver.url);
    const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    await receiver.waitFor(3);
    const disabled = await eventually(async () => {
      const e = await endpoint(ep.id, app.id);
      return e.status === "disabled" ? e : null;
    });
    expect(disabled.disabledReason).toBe("failing");
    expect((await herald.store.listDeliveries(message.id))[0]).toMatchObject({ status: "failed", attempts: 3 });
    await sleep(700);
    expect(receiver.received).toHaveLength(3);

    // While disabled, new messages are kept as skipped, and recover queues them once enabled again.
    const second = await herald.publish({ appId: app.id, eventType: "a.b", payload: '{"second":true}', channels: null, eventId: null });
    expect((await herald.store.listDeliveries(second.message.id))[0]!.status).toBe("skipped");
    await sleep(200);
    expect(receiver.received).toHaveLength(3);

    receiver.behave((_r, res) => void res.end());
    await herald.store.setEndpointEnabled(app.id, ep.id, true, Date.now());
    const queued = await herald.store.recover(ep.id, 0, Date.now());
    expect(queued).toBe(2);
    herald.dispatcher!.wake();
    await receiver.waitFor(5);
    const attemptsOfFirst = receiver.received.filter((r) => r.headers["webhook-id"] === message.id).map((r) => r.headers["x-webhook-attempt"]);
    expect(attemptsOfFirst).toEqual(["1", "2", "3", "4"]); // recoveries keep counting
  });

  it("does not disable an endpoint that succeeded since the failing delivery's first attempt", async () => {
    await setup();
    receiver.behave((r, res) => {
      res.statusCode = r.body.includes("bad") ? 500 : 200;
      res.end();
    });
    const app = await createApp(herald);
    const ep = await createEndpoint(herald, app, receiver.url);
    const bad = await herald.publish({ appId: app.id, eventType: "a.b", payload: '{"bad":1}', channels: null, eventId: null });
    await herald.publish({ appId: app.id, eventType: "a.b", payload: '{"good":1}', channels: null, eventId: null });
    await eventually(async () => (await herald.store.listDeliveries(bad.message.id))[0]?.status === "failed");
    await sleep(50);
    expect((await endpoint(ep.id, app.id)).status).toBe("active");
  });

  it("disables the endpoint at once on 410 Gone", async () => {
    await setup();
    receiver.behave((_r, res) => {
      res.statusCode = 410;
      res.end();
    });
    const app = await createApp(herald);
    const ep = await createEndpoint(herald, app, receiver.url);
    const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    const e = await eventually(async () => {
      const x = await endpoint(ep.id, app.id);
      return x.status === "disabled" ? x : null;
    });
    expect(e.disabledReason).toBe("gone");
    expect((await herald.store.listDeliveries(message.id))[0]).toMatchObject({ status: "failed", attempts: 1 });
    await sleep(500);
    expect(receiver.received).toHaveLength(1);
  });

  it("honours Retry-After on 429 and 503, clamped to [next delay, 2 x next delay]", async () => {
    await setup({ HERALD_RETRY_SCHEDULE: "0s,300ms,300ms" });
    receiver.behave((_r, res, i) => {
      if (i === 0) {
        res.statusCode = 429;
        res.setHeader("retry-after", "3600"); // an hour: clamped to at most 2 x 300 ms
      } else if (i === 1) {
        res.statusCode = 503;
        res.setHeader("retry-after", "0"); // now: clamped to at least the next delay
      }
      res.end();
    });
    const app = await createApp(herald);
    await createEndpoint(herald, app, receiver.url);
    await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    const reqs = await receiver.waitFor(3, 5000);
    const gap1 = reqs[1]!.at - reqs[0]!.at;
    const gap2 = reqs[2]!.at - reqs[1]!.at;
    expect(gap1).toBeGreaterThanOrEqual(2 * 270 - 5);
    expect(gap1).toBeLessThan(2 * 330 + 300);
    expect(gap2).toBeGreaterThanOrEqual(270 - 5);
  });

  it("does not follow redirects: a 3xx is a failure", async () => {
    await setup({ HERALD_RETRY_SCHEDULE: "0s" });
    const target = await startReceiver();
    try {
      receiver.behave((_r, res) => {
        res.statusCode = 302;
        res.setHeader("location", `${target.url}/elsewhere`);
        res.end();
      });
      const app = await createApp(herald);
      await createEndpoint(herald, app, receiver.url);
      const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
      const attempt = await eventually(async () => (await herald.store.listMessageAttempts(message.id, { limit: 1 })).data[0]);
      expect(attempt).toMatchObject({ success: false, statusCode: 302, errorKind: "redirect" });
      expect(target.received).toHaveLength(0);
    } finally {
      await target.close();
    }
  });
});
