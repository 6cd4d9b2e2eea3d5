import { expect, it } from "vitest";
import { type DeliveryId, type MessageId, newId } from "../../src/core/ids.js";
import type { Store } from "../../src/store/store.js";
import { T0, type TestStore, app, idAt, attemptOf, claim, endpoint, failed, held, message, publishOne, succeeded } from "./fixtures.js";

/** Publishing, claiming, completing, leases, the log's reads, resend and recover. */
export function queueContract(ctx: () => TestStore): void {
  const store = () => ctx().store;

  it("publishes one delivery per matching endpoint, skipped for disabled ones", async () => {
    const s = store();
    const a = await app(s);
    const all = await endpoint(s, a);
    const orders = await endpoint(s, a, { events: ["order.*"] });
    await endpoint(s, a, { events: ["pet.*"] });
    const eu = await endpoint(s, a, { channels: ["eu"] });
    const off = await endpoint(s, a, { status: "disabled", disabledReason: "manual" });
    const { message: m, created, jobs } = await publishOne(s, a, { channels: ["eu"] });
    expect(created).toBe(true);
    expect(jobs).toEqual([]);
    expect(await s.getMessage(a.id, m.id)).toEqual(m);
    const ds = await s.listDeliveries(m.id);
    expect(ds.map((d) => [d.endpointId, d.status]).sort()).toEqual(
      [[all.id, "pending"], [orders.id, "pending"], [eu.id, "pending"], [off.id, "skipped"]].sort(),
    );
    const pending = ds.find((d) => d.endpointId === all.id)!;
    expect(pending).toMatchObject({ attempts: 0, scheduleIndex: 0, nextAttemptAt: T0, appId: a.id, createdAt: T0, lastAttemptAt: null });
    expect(ds.find((d) => d.endpointId === off.id)!.nextAttemptAt).toBeNull();
  });

  it("writes fresh deliveries leased to an in-process worker and returns them as jobs", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a, { headers: { "x-k": "v" } });
    const [r] = await s.publish([{ message: message(a) }], { now: T0, lease: { owner: "local", until: T0 + 60_000, max: 10 } });
    expect(r!.jobs).toHaveLength(1);
    expect(r!.jobs[0]!.lease).toEqual({ owner: "local", gen: 0 });
    expect(r!.jobs[0]).toMatchObject({ delivery: { endpointId: ep.id, attempts: 0, scheduleIndex: 0, cycleStartedAt: null }, message: { id: r!.message.id, payload: r!.message.payload }, endpoint: { id: ep.id, secret: ep.secret, headers: { "x-k": "v" } } });
    expect(await claim(s, T0 + 1000, { owner: "other" })).toEqual([]); // leased: nobody else takes it
    expect(await s.nextDueAt()).toBe(T0 + 60_000);
    // A first attempt scheduled later is not leased.
    const [later] = await s.publish([{ message: message(a) }], { now: T0, firstDelayMs: 5000, lease: { owner: "local", until: T0 + 60_000, max: 10 } });
    expect(later!.jobs).toEqual([]);
    expect((await s.listDeliveries(later!.message.id))[0]!.nextAttemptAt).toBe(T0 + 5000);
  });

  it("restricts fan-out to one endpoint with `only`", async () => {
    const s = store();
    const a = await app(s);
    const target = await endpoint(s, a, { events: ["pet.*"] });
    await endpoint(s, a);
    const [r] = await s.publish([{ message: message(a, { eventType: "webhook.test" }), only: target.id }], { now: T0 });
    expect((await s.listDeliveries(r!.message.id)).map((d) => d.endpointId)).toEqual([target.id]);
  });

  it("dedups on the idempotency key per application, within a batch and across batches", async () => {
    const s = store();
    const a = await app(s);
    const b = await app(s, { id: newId("app", T0) });
    await endpoint(s, a);
    const first = await publishOne(s, a, { eventId: "k1" });
    const batch = await s.publish(
      [{ message: message(a, { eventId: "k1" }) }, { message: message(a, { eventId: "k2" }) }, { message: message(a, { eventId: "k2" }) }, { message: message(b, { eventId: "k1" }) }],
      { now: T0 },
    );
    expect(batch.map((r) => r.created)).toEqual([false, true, false, true]);
    expect(batch[0]!.message).toEqual(first.message);
    expect(batch[2]!.message.id).toBe(batch[1]!.message.id);
    expect((await s.listMessages(a.id, {}, { limit: 10 })).data).toHaveLength(2);
    expect(await s.listDeliveries(batch[2]!.message.id)).toHaveLength(1);
  });

  it("claims due deliveries oldest first, with a lease, up to the limit, skipping excluded endpoints", async () => {
    const s = store();
    const a = await app(s);
    const e1 = await endpoint(s, a);
    const e2 = await endpoint(s, a, { id: newId("ep", T0) });
    const m1 = await publishOne(s, a, {}, T0 + 2);
    const m2 = await publishOne(s, a, {}, T0 + 1);
    await publishOne(s, a, {}, T0 + 50); // not due yet at T0 + 10
    const firstTwo = await claim(s, T0 + 10, { limit: 2 });
    expect(firstTwo.map((j) => j.message.id)).toEqual([m2.message.id, m2.message.id]);
    expect(firstTwo[0]!.endpoint.url).toBe(e1.url);
    expect(firstTwo[0]!.message).toEqual({ id: m2.message.id, eventType: "order.created", payload: m2.message.payload, createdAt: T0 + 1 });
    const onlyE2 = await claim(s, T0 + 10, { exclude: [e1.id] });
    expect(onlyE2.map((j) => [j.message.id, j.endpoint.id])).toEqual([[m1.message.id, e2.id]]);
    const rest = await claim(s, T0 + 10);
    expect(rest.map((j) => [j.message.id, j.endpoint.id])).toEqual([[m1.message.id, e1.id]]);
    expect(await claim(s, T0 + 10)).toEqual([]);
    // An expired lease is due again, for anyone.
    const again = await claim(s, T0 + 10 + 60_000, { owner: "w2" });
    expect(again).toHaveLength(6); // the four leased above, and the message that became due
  });

  it("records attempts and transitions, and remembers the endpoint's last success", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const { message: m } = await publishOne(s, a);
    const [job] = await claim(s, T0);
    const effects = await s.complete([failed(job!, T0 + 5, T0 + 60_000, { attempt: attemptOf(job!, T0 + 5, false, { responseBody: "nul\u0000byte", statusCode: 503 }) })], T0 + 6);
    expect(effects).toEqual({ disabled: [], fenced: [] });
    const [d] = await s.listDeliveries(m.id);
    expect(d).toMatchObject({ status: "pending", attempts: 1, scheduleIndex: 1, nextAttemptAt: T0 + 60_000, cycleStartedAt: T0 + 5, lastAttemptAt: T0 + 5, updatedAt: T0 + 6 });
    expect(await claim(s, T0 + 59_999)).toEqual([]); // the retry is not due yet
    const [retry] = await claim(s, T0 + 60_000);
    expect(retry!.delivery).toMatchObject({ attempts: 1, scheduleIndex: 1, cycleStartedAt: T0 + 5 });
    await s.complete([succeeded(retry!, T0 + 60_010)], T0 + 60_011);
    expect((await s.listDeliveries(m.id))[0]).toMatchObject({ status: "succeeded", attempts: 2, nextAttemptAt: null });
    expect((await s.getEndpoint(a.id, ep.id))!.lastSuccessAt).toBe(T0 + 60_010);
    const log = await s.listMessageAttempts(m.id, { limit: 10 });
    expect(log.data.map((x) => [x.attemptNumber, x.success, x.statusCode])).toEqual([[2, true, 200], [1, false, 503]]);
    expect(log.data[1]).toMatchObject({ durationMs: 12, responseHeaders: { "content-type": "text/plain" }, errorKind: "http_status", url: ep.url });
    expect(log.data[1]!.responseBody).toMatch(/^nul.byte$/);
    expect(await s.nextDueAt()).toBeNull();
  });

  it("disables an endpoint: at once when gone, when failing only without a success since the cycle began", async () => {
    const s = store();
    const a = await app(s);
    const gone = await endpoint(s, a);
    const flaky = await endpoint(s, a, { id: newId("ep", T0) });
    await publishOne(s, a);
    await publishOne(s, a);
    const jobs = await claim(s, T0);
    const [g1] = jobs.filter((j) => j.endpoint.id === gone.id);
    const [f1, f2] = jobs.filter((j) => j.endpoint.id === flaky.id);
    // flaky: one delivery succeeds at T0 + 10, another exhausts a cycle that began at T0 + 1.
    const res = await s.complete(
      [
        failed(g1!, T0 + 1, null, { disableEndpoint: "gone" }),
        succeeded(f1!, T0 + 10),
        failed(f2!, T0 + 20, null, { disableEndpoint: "failing", cycleStartedAt: T0 + 1 }),
      ],
      T0 + 30,
    );
    expect(res.disabled).toEqual([{ endpointId: gone.id, reason: "gone" }]);
    expect(await s.getEndpoint(a.id, gone.id)).toMatchObject({ status: "disabled", disabledReason: "gone", updatedAt: T0 + 30 });
    expect((await s.getEndpoint(a.id, flaky.id))!.status).toBe("active");
    // A cycle that began after the last success does disable it.
    await publishOne(s, a, {}, T0 + 40);
    const [f3] = (await claim(s, T0 + 40)).filter((j) => j.endpoint.id === flaky.id);
    const later = await s.complete([failed(f3!, T0 + 50, null, { disableEndpoint: "failing", cycleStartedAt: T0 + 11 })], T0 + 51);
    expect(later.disabled).toEqual([{ endpointId: flaky.id, reason: "failing" }]);
  });

  it("releases leases (some, or all), renews only its own, and reports the next due time", async () => {
    const s = store();
    const a = await app(s);
    await endpoint(s, a);
    await publishOne(s, a);
    await publishOne(s, a);
    await publishOne(s, a);
    const [j1, j2, j3] = await claim(s, T0, { owner: "w1", limit: 3 });
    expect(await s.nextDueAt()).toBe(T0 + 60_000);
    expect((await s.extendLeases("w1", [held(j1!), held(j2!)], T0 + 90_000)).sort()).toEqual([j1!.delivery.id, j2!.delivery.id].sort());
    expect(await s.extendLeases("w2", [held(j3!)], T0 + 999_999)).toEqual([]); // not its lease
    expect(await claim(s, T0 + 60_000, { owner: "w2" })).toHaveLength(1); // j3's lease ran out; j1, j2 renewed
    await s.releaseLeases("w2", [held(j1!)], T0 + 1); // not w2's: nothing happens
    await s.releaseLeases("w1", [held(j1!)], T0 + 1);
    const [back] = await claim(s, T0 + 1, { owner: "w3" });
    expect(back!.delivery.id).toBe(j1!.delivery.id);
    await s.complete([succeeded(back!, T0 + 2)], T0 + 2);
    await s.releaseLeases("w3", [held(back!)], T0 + 3); // finished: stays finished
    expect((await s.listDeliveries(back!.message.id))[0]!.status).toBe("succeeded");
    expect(await s.extendLeases("w3", [held(back!)], T0 + 9)).toEqual([]);
    expect(await s.releaseAllLeases(T0 + 4)).toBe(2);
    expect(await s.nextDueAt()).toBe(T0 + 4);
    expect(await claim(s, T0 + 4)).toHaveLength(2);
  });

  it("lists messages with filters and pages, newest first, scoped to the application", async () => {
    const s = store();
    const a = await app(s);
    const b = await app(s, { id: newId("app", T0) });
    await endpoint(s, a);
    const m1 = (await publishOne(s, a, { eventType: "order.created" }, T0 + 1)).message;
    const m2 = (await publishOne(s, a, { eventType: "order.paid" }, T0 + 2)).message;
    const m3 = (await publishOne(s, a, { eventType: "order.created" }, T0 + 3)).message;
    await publishOne(s, b, {}, T0 + 4);
    const ids = async (f: Parameters<Store["listMessages"]>[1]) => (await s.listMessages(a.id, f, { limit: 10 })).data.map((m) => m.id);
    expect(await ids({})).toEqual([m3.id, m2.id, m1.id]);
    expect(await ids({ eventType: "order.created" })).toEqual([m3.id, m1.id]);
    expect(await ids({ before: T0 + 3, after: T0 + 1 })).toEqual([m2.id]);
    const [job] = await claim(s, T0 + 10, { limit: 1 });
    await s.complete([succeeded(job!, T0 + 11)], T0 + 11);
    expect(await ids({ status: "succeeded" })).toEqual([m1.id]);
    expect(await ids({ status: "pending" })).toEqual([m3.id, m2.id]);
    const p1 = await s.listMessages(a.id, {}, { limit: 2 });
    expect(p1.nextCursor).toBe(m2.id);
    expect((await s.listMessages(a.id, {}, { limit: 2, cursor: p1.nextCursor! })).data.map((m) => m.id)).toEqual([m1.id]);
    expect(await s.getMessage(b.id, m1.id)).toBeNull();
  });

  it("pages attempts and summarizes an endpoint", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    for (let i = 0; i < 3; i++) await publishOne(s, a, {}, T0 + i);
    const jobs = await claim(s, T0 + 10);
    await s.complete(
      jobs.map((j, i) => (i < 2 ? succeeded(j, T0 + 100 + i) : failed(j, T0 + 200, null))),
      T0 + 300,
    );
    const page = await s.listEndpointAttempts(ep.id, { limit: 2 });
    expect(page.data).toHaveLength(2);
    expect((await s.listEndpointAttempts(ep.id, { limit: 2, cursor: page.nextCursor! })).data).toHaveLength(1);
    const stats = await s.endpointStats(ep.id, T0, T0 + 3_600_000);
    expect(stats).toMatchObject({ attempts: 3, succeeded: 2, failed: 1, deliveries: { pending: 0, succeeded: 2, failed: 1, skipped: 0 } });
    expect(stats.latency.p50).toBe(12);
    expect(stats.series).toHaveLength(24);
  });

  it("filters an endpoint's attempts by outcome, status code, event type and time", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    for (const [i, eventType] of ["order.created", "pet.adopted", "pet.adopted"].entries()) await publishOne(s, a, { eventType }, T0 + i);
    const jobs = (await claim(s, T0 + 10)).sort((x, y) => x.message.createdAt - y.message.createdAt);
    await s.complete(
      jobs.map((j, i) => (i < 2 ? succeeded(j, T0 + 100 + i) : failed(j, T0 + 200, null))),
      T0 + 300,
    );
    const list = async (filter: Parameters<Store["listEndpointAttempts"]>[2], limit = 10) =>
      (await s.listEndpointAttempts(ep.id, { limit }, filter)).data.map((x) => x.createdAt);
    expect(await list({})).toEqual([T0 + 200, T0 + 101, T0 + 100]);
    expect(await list({ success: false })).toEqual([T0 + 200]);
    expect(await list({ success: true })).toEqual([T0 + 101, T0 + 100]);
    expect(await list({ statusCode: 500 })).toEqual([T0 + 200]);
    expect(await list({ eventType: "pet.adopted" })).toEqual([T0 + 200, T0 + 101]);
    expect(await list({ eventType: "pet.adopted", success: true })).toEqual([T0 + 101]);
    expect(await list({ after: T0 + 100, before: T0 + 200 })).toEqual([T0 + 101]);
    const page = await s.listEndpointAttempts(ep.id, { limit: 1 }, { eventType: "pet.adopted" });
    expect(page.nextCursor).not.toBeNull();
    expect((await s.listEndpointAttempts(ep.id, { limit: 1, cursor: page.nextCursor! }, { eventType: "pet.adopted" })).data.map((x) => x.createdAt)).toEqual([T0 + 101]);
  });

  it("resends (creating the delivery if needed) and recovers failed or skipped deliveries since a time", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const { message: m } = await publishOne(s, a);
    const [job] = await claim(s, T0);
    await s.complete([succeeded(job!, T0 + 1)], T0 + 1);
    const again = await s.resend(m, ep.id, T0 + 2);
    expect(again).toMatchObject({ id: job!.delivery.id, status: "pending", attempts: 1, scheduleIndex: 0, nextAttemptAt: T0 + 2, cycleStartedAt: null });
    const late = await endpoint(s, a, { id: newId("ep", T0) });
    const fresh = await s.resend(m, late.id, T0 + 3);
    expect(fresh).toMatchObject({ endpointId: late.id, status: "pending", attempts: 0, nextAttemptAt: T0 + 3, createdAt: T0 + 3 });
    expect(await s.listDeliveries(m.id)).toHaveLength(2);

    const sick = await endpoint(s, a, { id: newId("ep", T0), status: "disabled", disabledReason: "failing" });
    await publishOne(s, a, {}, T0 + 10); // skipped for `sick`
    await publishOne(s, a, {}, T0 + 20);
    expect(await s.recover(sick.id, T0 + 15, T0 + 30)).toBeNull(); // disabled: nothing re-queued
    await s.setEndpointEnabled(a.id, sick.id, true, T0 + 25);
    expect(await s.recover(sick.id, T0 + 15, T0 + 30)).toBe(1);
    expect(await s.recover(sick.id, T0 + 15, T0 + 30)).toBe(0); // pending now, nothing left to recover
    const due = (await claim(s, T0 + 30)).filter((j) => j.endpoint.id === sick.id);
    expect(due).toHaveLength(1);
  });

  it("never gives one delivery to two claimers at once, across connections", async () => {
    const s = store();
    const a = await app(s);
    for (let i = 0; i < 5; i++) await endpoint(s, a, { id: newId("ep", T0) });
    await s.publish(Array.from({ length: 60 }, () => ({ message: message(a) })), { now: T0 });
    const stores = [s, await ctx().reopen(), await ctx().reopen()];
    const claimed = await Promise.all(Array.from({ length: 6 }, (_, w) => claim(stores[w % 3]!, T0, { owner: `w${w}`, limit: 40 })));
    const ids = claimed.flat().map((j) => j.delivery.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(240);
  });

  it("purges history older than a time in bounded batches, keeping what is pending", async () => {
    const s = store();
    const a = await app(s);
    await endpoint(s, a);
    const old = (await publishOne(s, a, {}, T0)).message;
    const oldPending = (await publishOne(s, a, {}, T0 + 1)).message;
    const recent = (await publishOne(s, a, {}, T0 + 100_000)).message;
    const jobs = await claim(s, T0 + 100_000);
    const byMessage = (id: string) => jobs.find((j) => j.message.id === id)!;
    await s.complete([succeeded(byMessage(old.id), T0 + 2), failed(byMessage(oldPending.id), T0 + 3, T0 + 999_999), succeeded(byMessage(recent.id), T0 + 100_001)], T0 + 100_002);
    await s.recordOperationalEvent({ id: idAt("opev", T0), type: "endpoint.created", appId: a.id, endpointId: jobs[0]!.endpoint.id, messageId: null, data: {}, createdAt: T0 });
    let total = 0;
    for (let n = -1; n !== 0; ) total += n = await s.purge(T0 + 50_000, 1);
    expect(total).toBeGreaterThanOrEqual(4); // 2 old attempts, 1 event, 1 message (with its delivery)
    expect(await s.getMessage(a.id, old.id)).toBeNull();
    expect(await s.listDeliveries(old.id)).toEqual([]);
    expect(await s.getMessage(a.id, oldPending.id)).not.toBeNull(); // still pending: its payload is needed
    expect(await s.getMessage(a.id, recent.id)).not.toBeNull();
    expect((await s.listMessageAttempts(recent.id, { limit: 10 })).data).toHaveLength(1);
    expect((await s.listMessageAttempts(oldPending.id, { limit: 10 })).data).toEqual([]);
    expect((await s.listOperationalEvents({}, { limit: 10 })).data).toEqual([]);
    expect(await s.purge(T0 + 50_000, 100)).toBe(0);
  });

  it("renews nothing it does not hold", async () => {
    expect(await store().extendLeases("w", [{ id: newId("dlv") as DeliveryId, messageId: newId("msg") as MessageId, gen: 1 }], T0)).toEqual([]);
  });
}
