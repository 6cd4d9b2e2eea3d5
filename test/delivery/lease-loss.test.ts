import { afterEach, describe, expect, it } from "vitest";
import type { DeliveryId } from "../../src/core/ids.js";
import { DEFAULT_DELIVERY } from "../../src/config/config.js";
import type { Herald } from "../../src/herald.js";
import type { Application } from "../../src/store/model.js";
import type { DeliveryJob } from "../../src/store/store.js";
import { createApp, createEndpoint, eventually, openTestHerald, sleep, type TestDatabase } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { succeeded } from "../store/fixtures.js";

/**
 * What a worker does when its leases are no longer its own (docs/guarantees.md):
 * another worker took the work over after the lease ran out (a freeze, a GC
 * pause, a lost connection), or an operator deleted or disabled the endpoint.
 * The other worker is played here by claims on the same store with a clock
 * far ahead. Runs on SQLite, and on PostgreSQL under HERALD_TEST_STORE=postgres.
 */
describe("a worker that lost its leases", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let query: TestDatabase["query"];
  let receiver: Receiver;
  let app: Application;

  afterEach(async () => {
    await close?.();
    await receiver?.close();
  });

  async function setUp(settings: Record<string, string> = {}) {
    ({ herald, close, query } = await openTestHerald({ HERALD_RETRY_SCHEDULE: "0s,1m", ...settings }));
    await herald.start();
    app = await createApp(herald);
  }

  /** Another worker whose clock is far ahead: every lease has run out for it. */
  async function takeOver(): Promise<DeliveryJob[]> {
    const future = Date.now() + 3_600_000;
    return herald.store.claimDue({ owner: "other-worker", now: future, leaseUntil: future + 60_000, limit: 100 });
  }

  /** The other worker's success, as it records it. */
  const success = (job: DeliveryJob, at: number) => succeeded(job, at, { responseBody: "by the other worker" });

  const deliveries = () =>
    query<{ id: DeliveryId; status: string; attempts: number; lease_owner: string | null }>("SELECT id, status, attempts, lease_owner FROM deliveries");

  it("does not record a late outcome over the success of the worker that took its delivery over", async () => {
    await setUp();
    let answer: (() => void) | undefined;
    receiver = await startReceiver((_req, res) => {
      answer = () => res.writeHead(500).end("late failure");
    });
    await createEndpoint(herald, app, receiver.url);
    const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    await receiver.waitFor(1);
    // While the attempt is in flight, its lease runs out and another worker delivers.
    const [job] = await takeOver();
    expect(job!.message.id).toBe(message.id);
    const effects = await herald.store.complete([success(job!, Date.now())], Date.now());
    expect(effects.fenced).toEqual([]);
    answer!(); // the first worker's attempt ends in a failure that would schedule a retry
    await sleep(300);
    const [d] = await deliveries();
    expect(d).toMatchObject({ status: "succeeded", attempts: 1, lease_owner: null });
    const attempts = (await herald.store.listMessageAttempts(message.id, { limit: 10 })).data;
    expect(attempts.map((a) => [a.success, a.responseBody])).toEqual([[true, "by the other worker"]]);
    // Counted for operators: an outcome the store refused.
    expect((await herald.metrics.scrape()).text).toMatch(/^herald_outcomes_fenced_total 1$/m);
  });

  it("does not start the work that waited in memory once its lease ran out and another worker took it", async () => {
    // One attempt at a time to the endpoint, and a lease of one second that this worker stops renewing (frozen).
    ({ herald, close, query } = await openTestHerald(
      { HERALD_RETRY_SCHEDULE: "0s,1m" },
      { delivery: { ...DEFAULT_DELIVERY, perEndpointConcurrency: 1, leaseMs: 1000 } },
    ));
    await herald.start();
    app = await createApp(herald);
    let release: (() => void) | undefined;
    receiver = await startReceiver((_req, res, index) => {
      if (index === 0) release = () => res.end("ok"); // the first request hangs until released; the rest wait behind it
      else res.end("ok");
    });
    await createEndpoint(herald, app, receiver.url, { timeoutMs: 10_000 });
    await Promise.all(
      Array.from({ length: 4 }, (_, i) => herald.publish({ appId: app.id, eventType: "a.b", payload: `{"i":${i}}`, channels: null, eventId: null })),
    );
    await receiver.waitFor(1);
    clearInterval((herald.dispatcher as unknown as { renewal: NodeJS.Timeout }).renewal);
    await sleep(1300); // past the lease, by this worker's clock too
    const taken = await herald.store.claimDue({ owner: "other-worker", now: Date.now(), leaseUntil: Date.now() + 60_000, limit: 100 });
    expect(taken).toHaveLength(4); // the one in flight and the three that waited
    await herald.store.complete(
      taken.map((j) => success(j, Date.now())),
      Date.now(),
    );
    release!(); // the first attempt ends: its slot is free for the work that waited
    await sleep(500);
    expect(receiver.received).toHaveLength(1);
    const rows = await deliveries();
    expect(rows.every((d) => d.status === "succeeded" && d.attempts === 1)).toBe(true);
  });

  it("sends nothing to an endpoint after its disable or deletion committed", async () => {
    await setUp();
    receiver = await startReceiver();
    const other = await startReceiver();
    try {
      const disabled = await createEndpoint(herald, app, receiver.url, { rateLimit: 1 });
      const deleted = await createEndpoint(herald, app, other.url, { rateLimit: 1 });
      await Promise.all(
        Array.from({ length: 4 }, (_, i) => herald.publish({ appId: app.id, eventType: "a.b", payload: `{"i":${i}}`, channels: null, eventId: null })),
      );
      await receiver.waitFor(1);
      await other.waitFor(1);
      await herald.setEndpointEnabled(app.id, disabled.id, false);
      await herald.deleteEndpoint(app.id, deleted.id);
      const seen = [receiver.received.length, other.received.length];
      await sleep(2500);
      expect([receiver.received.length, other.received.length]).toEqual(seen);
      // The disabled endpoint's waiting work is kept as skipped, for a recovery.
      // At once, not one rate-limit token (a second) at a time.
      await eventually(async () => (await deliveries()).filter((d) => d.status === "skipped").length === 4 - seen[0]!, 1500);
      expect((await deliveries()).some((d) => d.status === "pending")).toBe(false);
    } finally {
      await other.close();
    }
  });

  it("gives back at once what a claim leased when its answer was lost, instead of waiting out the lease", async () => {
    ({ herald, close, query } = await openTestHerald({ HERALD_RETRY_SCHEDULE: "0s,1m" }));
    app = await createApp(herald);
    receiver = await startReceiver();
    await createEndpoint(herald, app, receiver.url);
    // Published before the worker starts: due for a claim, not leased at publish.
    await Promise.all(
      Array.from({ length: 3 }, (_, i) => herald.publish({ appId: app.id, eventType: "a.b", payload: `{"i":${i}}`, channels: null, eventId: null })),
    );
    // The first claim commits, then its answer is lost (as when PostgreSQL cuts the connection).
    const store = herald.store as { claimDue: typeof herald.store.claimDue };
    const claimDue = store.claimDue.bind(herald.store);
    let lost = 0;
    store.claimDue = async (options) => {
      const jobs = await claimDue(options);
      if (jobs.length > 0 && lost === 0) {
        lost++;
        throw new Error("Connection terminated unexpectedly");
      }
      return jobs;
    };
    const started = Date.now();
    await herald.start();
    await receiver.waitFor(3, 10_000);
    expect(lost).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000); // the lease is 60 s: given back, not sat out
    await eventually(async () => (await deliveries()).every((d) => d.status === "succeeded" && d.attempts === 1), 5000);
    expect(receiver.received).toHaveLength(3);
  });

  it("records an exception inside the attempt path as an attempt and follows the schedule", async () => {
    await setUp();
    receiver = await startReceiver();
    await createEndpoint(herald, app, receiver.url);
    // A fault of Herald's own, before any request is made.
    const sender = (herald.dispatcher as unknown as { sender: { send: () => Promise<never> } }).sender;
    sender.send = async () => {
      throw new Error("injected fault");
    };
    const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    const attempt = await eventually(async () => (await herald.store.listMessageAttempts(message.id, { limit: 5 })).data[0], 5000);
    expect(attempt).toMatchObject({ success: false, errorKind: "internal", attemptNumber: 1 });
    expect(attempt.errorMessage).toContain("injected fault");
    const [d] = await herald.store.listDeliveries(message.id);
    // Retried a minute later (the schedule's second entry), not at every lease expiry.
    expect(d).toMatchObject({ status: "pending", attempts: 1, scheduleIndex: 1 });
    expect(d!.nextAttemptAt! - Date.now()).toBeGreaterThan(40_000);
    expect(receiver.received).toHaveLength(0);
  });
});
