import { afterEach, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import { createApp, createEndpoint, eventually, openTestHerald, type TestDatabase } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * A lease must outlive the time a delivery waits in a worker's memory, which
 * can be longer than one lease (behind a slow or rate-limited endpoint, or
 * the global cap): the dispatcher renews what it holds. Runs on SQLite, and on
 * PostgreSQL under HERALD_TEST_STORE=postgres, where it is what keeps another
 * worker from taking the work.
 */
describe("leases of work held in memory", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let query: TestDatabase["query"];
  let receiver: Receiver;

  afterEach(async () => {
    await close?.();
    await receiver?.close();
  });

  it("are renewed while they wait, and belong to this worker only", async () => {
    ({ herald, close, query } = await openTestHerald());
    await herald.start();
    receiver = await startReceiver(() => {}); // never answers: attempts stay in flight
    const app = await createApp(herald);
    // One request per second: the rest waits in memory, leased.
    await createEndpoint(herald, app, receiver.url, { rateLimit: 1 });
    for (let i = 0; i < 5; i++) {
      await herald.publish({ appId: app.id, eventType: "a.b", payload: `{"i":${i}}`, channels: null, eventId: null });
    }
    await receiver.waitFor(1);
    const leases = () =>
      query<{ lease_owner: string | null; next_attempt_at: number }>("SELECT lease_owner, next_attempt_at FROM deliveries WHERE status = 'pending'");
    const before = await leases();
    expect(before).toHaveLength(5);
    expect(new Set(before.map((l) => l.lease_owner))).toEqual(new Set([herald.dispatcher!.owner]));
    const oldest = Math.min(...before.map((l) => l.next_attempt_at));

    await new Promise((r) => setTimeout(r, 20));
    await herald.dispatcher!.renewLeases();
    const after = await leases();
    expect(Math.min(...after.map((l) => l.next_attempt_at))).toBeGreaterThan(oldest);
    expect(Math.min(...after.map((l) => l.next_attempt_at))).toBeGreaterThan(Date.now() + 50_000);

    // Another worker finds nothing to take while this one lives.
    const taken = await herald.store.claimDue({ owner: "someone-else", now: Date.now() + 45_000, leaseUntil: Date.now() + 100_000, limit: 10 });
    expect(taken).toEqual([]);
    await eventually(() => receiver.received.length >= 2, 3000);
  });
});
