import { expect, it } from "vitest";
import type { Application, Endpoint } from "../../src/store/model.js";
import type { Completion, DeliveryJob, Store } from "../../src/store/store.js";
import { T0, type TestStore, app, claim, endpoint, failed, message, succeeded } from "./fixtures.js";

/**
 * FIFO endpoints in the store: the claim hands out one delivery of a FIFO
 * endpoint at a time, in publish order, the next only once the previous one
 * is recorded as ended; retries hold the queue; recoveries and resends go
 * back to their original place. Other endpoints are claimed as before.
 */
export function fifoContract(ctx: () => TestStore): void {
  const store = () => ctx().store;
  const fifo = (c: Completion): Completion => ({ ...c, fifo: true });
  const publishN = async (s: Store, a: Application, count: number, at = T0, from = 1): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = from; i < from + count; i++) {
      const [r] = await s.publish([{ message: message(a, { payload: JSON.stringify({ n: i }) }, at) }], { now: at });
      ids.push(r!.message.id);
    }
    return ids;
  };
  const jobsOf = (jobs: DeliveryJob[], ep: Endpoint) => jobs.filter((j) => j.endpoint.id === ep.id);
  const n = (job: DeliveryJob | undefined) => (job ? (JSON.parse(job.message.payload) as { n: number }).n : undefined);

  it("stores an endpoint's ordering: none by default, fifo when asked, changed by a patch", async () => {
    const s = store();
    const a = await app(s);
    expect((await endpoint(s, a)).ordering).toBe("none");
    const ep = await endpoint(s, a, { ordering: "fifo" });
    expect(ep.ordering).toBe("fifo");
    expect((await s.getEndpoint(a.id, ep.id))!.ordering).toBe("fifo");
    expect((await s.updateEndpoint(a.id, ep.id, { description: "x" }, T0 + 1))!.ordering).toBe("fifo");
    expect((await s.updateEndpoint(a.id, ep.id, { ordering: "none" }, T0 + 2))!.ordering).toBe("none");
  });

  it("claims a FIFO endpoint's deliveries one at a time, in publish order; a retry holds the queue", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a, { ordering: "fifo" });
    const plain = await endpoint(s, a);
    await publishN(s, a, 4);

    const first = await claim(s, T0);
    expect(jobsOf(first, plain)).toHaveLength(4); // the other endpoint: all at once, as always
    expect(jobsOf(first, ep).map(n)).toEqual([1]);
    expect(await claim(s, T0 + 1)).toEqual([]); // 1 is in flight: nothing behind it

    // 1 fails and is retried later: 2 still waits.
    const retryAt = T0 + 10_000;
    const fx = await s.complete([fifo(failed(jobsOf(first, ep)[0]!, T0 + 2, retryAt))], T0 + 2);
    expect(fx.promoted ?? 0).toBe(0);
    expect(await claim(s, T0 + 3)).toEqual([]);
    const again = await claim(s, retryAt);
    expect(again.map(n)).toEqual([1]);

    // 1 succeeds: 2 is due at once, and only 2.
    expect((await s.complete([fifo(succeeded(again[0]!, retryAt + 1))], retryAt + 1)).promoted).toBe(1);
    const second = await claim(s, retryAt + 2);
    expect(second.map(n)).toEqual([2]);

    // 2 fails for good (its schedule is exhausted): it has ended, 3 goes.
    await s.complete([fifo(failed(second[0]!, retryAt + 3, null))], retryAt + 3);
    expect((await claim(s, retryAt + 4)).map(n)).toEqual([3]);
    expect((await s.listDeliveries(second[0]!.message.id)).find((d) => d.endpointId === ep.id)!.status).toBe("failed");
  });

  it("never leases a FIFO delivery at publish: the claim orders them", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a, { ordering: "fifo" });
    const plain = await endpoint(s, a);
    const results = await s.publish(
      [1, 2, 3].map((i) => ({ message: message(a, { payload: JSON.stringify({ n: i }) }) })),
      { now: T0, lease: { owner: "w1", until: T0 + 60_000, max: 100 } },
    );
    const leased = results.flatMap((r) => r.jobs);
    expect(leased.map((j) => j.endpoint.id)).toEqual([plain.id, plain.id, plain.id]);
    // Each FIFO delivery is left for a claim: the publisher wakes the workers for it.
    expect(results.map((r) => r.queued)).toEqual([1, 1, 1]);
    expect((await claim(s, T0, { owner: "w2" })).map((j) => [j.endpoint.id, n(j)])).toEqual([[ep.id, 1]]);
  });

  it("a recovery replays a FIFO endpoint's failed and skipped deliveries in their original order", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a, { ordering: "fifo" });
    await publishN(s, a, 3);
    // All three fail for good, one after the other.
    for (let i = 0; i < 3; i++) {
      const [job] = await claim(s, T0 + 10 * i);
      await s.complete([fifo(failed(job!, T0 + 10 * i + 1, null))], T0 + 10 * i + 1);
    }
    expect(await claim(s, T0 + 100)).toEqual([]);
    expect(await s.recover(ep.id, T0, T0 + 200)).toBe(3);
    const order: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const jobs = await claim(s, T0 + 300 + 10 * i);
      expect(jobs).toHaveLength(1);
      order.push(n(jobs[0]));
      await s.complete([fifo(succeeded(jobs[0]!, T0 + 301 + 10 * i))], T0 + 301 + 10 * i);
    }
    expect(order).toEqual([1, 2, 3]);
  });

  it("a resent earlier message goes back to its place, ahead of what waits", async () => {
    const s = store();
    const a = await app(s);
    await endpoint(s, a, { ordering: "fifo" });
    const [m1] = await publishN(s, a, 1);
    const [j1] = await claim(s, T0);
    await s.complete([fifo(succeeded(j1!, T0 + 1))], T0 + 1);
    await publishN(s, a, 2, T0 + 2, 2);
    const [j2] = await claim(s, T0 + 3);
    expect(n(j2)).toBe(2);
    // 1 is resent while 2 is in flight: it waits for 2, then goes before 3.
    await s.resend((await s.getMessage(a.id, m1 as never))!, j1!.endpoint.id, T0 + 4);
    expect(await claim(s, T0 + 5)).toEqual([]);
    await s.complete([fifo(succeeded(j2!, T0 + 6))], T0 + 6);
    expect((await claim(s, T0 + 7)).map(n)).toEqual([1]);
  });

  it("two workers on one database never hold two deliveries of one FIFO endpoint", async () => {
    const s = store();
    const other = await ctx().reopen();
    const a = await app(s);
    const ep = await endpoint(s, a, { ordering: "fifo" });
    await publishN(s, a, 20);
    const seen: number[] = [];
    for (let round = 0; round < 20; round++) {
      const now = T0 + 10 * round;
      const [x, y] = await Promise.all([claim(s, now, { owner: "w1" }), claim(other, now, { owner: "w2" })]);
      const jobs = [...x, ...y];
      expect(jobs).toHaveLength(1);
      seen.push(n(jobs[0])!);
      const by = x.length > 0 ? s : other;
      await by.complete([fifo(succeeded(jobs[0]!, now + 1))], now + 1);
    }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(jobsOf(await claim(s, T0 + 1000), ep)).toEqual([]);
  });

  it("an endpoint made FIFO queues what is pending; made plain again, everything is due", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    await publishN(s, a, 3);
    await s.updateEndpoint(a.id, ep.id, { ordering: "fifo" }, T0 + 1);
    const first = await claim(s, T0 + 2);
    expect(first.map(n)).toEqual([1]);
    await s.updateEndpoint(a.id, ep.id, { ordering: "none" }, T0 + 3);
    expect((await claim(s, T0 + 4)).map(n).sort()).toEqual([2, 3]);
  });

  it("disabling a FIFO endpoint makes a head that waits for its retry due now (to be skipped), then the rest in order", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a, { ordering: "fifo" });
    await publishN(s, a, 2);
    const [j1] = await claim(s, T0);
    await s.complete([fifo(failed(j1!, T0 + 1, T0 + 3_600_000))], T0 + 1);
    expect(await claim(s, T0 + 2)).toEqual([]);
    await s.setEndpointEnabled(a.id, ep.id, false, T0 + 3);
    const [head] = await claim(s, T0 + 4);
    expect([n(head), head!.endpoint.status]).toEqual([1, "disabled"]);
    await s.complete([{ deliveryId: head!.delivery.id, messageId: head!.delivery.messageId, lease: head!.lease, endpointId: ep.id, status: "skipped", attempts: 1, scheduleIndex: 1, nextAttemptAt: null, cycleStartedAt: null, fifo: true }], T0 + 5);
    expect((await claim(s, T0 + 6)).map(n)).toEqual([2]);
  });

  it("an endpoint made FIFO while a delivery is in flight queues the rest behind the first one not in flight", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    for (const i of [1, 2, 3]) await publishN(s, a, 1, T0 + i, i); // due one after the other
    const [j1] = await claim(s, T0 + 10, { limit: 1 }); // in flight, sent as a plain endpoint's
    await s.updateEndpoint(a.id, ep.id, { ordering: "fifo" }, T0 + 11);
    const [j2, more] = await claim(s, T0 + 12);
    expect([n(j1), n(j2), more]).toEqual([1, 2, undefined]);
    await s.complete([succeeded(j1!, T0 + 13)], T0 + 13); // no FIFO flag: the old copy of the endpoint
    expect(await claim(s, T0 + 14)).toEqual([]);
    await s.complete([fifo(succeeded(j2!, T0 + 15))], T0 + 15);
    expect((await claim(s, T0 + 16)).map(n)).toEqual([3]);
  });
}
