import { expect, it } from "vitest";
import { generateSecret } from "../../src/signing/secret.js";
import { eventually } from "../helpers/herald.js";
import { T0, type TestStore, app, claim, endpoint, failed, held, message, publishOne, succeeded } from "./fixtures.js";

/**
 * Lease fencing (docs/guarantees.md): a worker that lost its lease (it ran
 * out and the delivery was claimed again, or an operator resent it) can
 * neither undo what the new holder recorded, nor renew, release or start
 * under the old lease.
 */
export function fencingContract(ctx: () => TestStore): void {
  const store = () => ctx().store;

  it("ignores the late completion of a worker whose lease ran out and was taken over", async () => {
    const s = store();
    const a = await app(s);
    await endpoint(s, a);
    const { message: m } = await publishOne(s, a);
    const [stale] = await claim(s, T0, { owner: "frozen", leaseMs: 1000 });
    // The frozen worker's lease runs out; another worker claims and delivers.
    const [live] = await claim(s, T0 + 2000, { owner: "live" });
    expect(live!.delivery.id).toBe(stale!.delivery.id);
    expect(live!.lease.gen).toBeGreaterThan(stale!.lease.gen);
    expect(await s.complete([succeeded(live!, T0 + 2001)], T0 + 2002)).toEqual({ disabled: [], fenced: [] });
    // The frozen worker wakes up with a failure to record (and a retry to schedule).
    const effects = await s.complete([failed(stale!, T0 + 3000, T0 + 4000)], T0 + 3001);
    expect(effects.fenced).toEqual([stale!.delivery.id]);
    const [d] = await s.listDeliveries(m.id);
    expect(d).toMatchObject({ status: "succeeded", attempts: 1, nextAttemptAt: null });
    const attempts = (await s.listMessageAttempts(m.id, { limit: 10 })).data;
    expect(attempts.map((x) => x.success)).toEqual([true]); // the stale attempt left no row
    expect(await claim(s, T0 + 10_000, { owner: "live" })).toEqual([]); // not pending again
  });

  it("fences by generation: the same owner's older lease does not count after a new claim", async () => {
    const s = store();
    const a = await app(s);
    await endpoint(s, a);
    const { message: m } = await publishOne(s, a);
    const [first] = await claim(s, T0, { owner: "w", leaseMs: 1000 });
    const [second] = await claim(s, T0 + 2000, { owner: "w" });
    expect((await s.complete([succeeded(first!, T0 + 2001)], T0 + 2001)).fenced).toEqual([first!.delivery.id]);
    expect(await s.extendLeases("w", [held(first!)], T0 + 99_000)).toEqual([]);
    expect(await s.checkLeases("w", [held(first!)], T0 + 2002)).toEqual([]);
    expect((await s.complete([succeeded(second!, T0 + 2003)], T0 + 2003)).fenced).toEqual([]);
    expect((await s.listDeliveries(m.id))[0]!.status).toBe("succeeded");
  });

  it("fences a worker out of a delivery an operator resent while it held it", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const { message: m } = await publishOne(s, a);
    const [job] = await claim(s, T0, { owner: "w" });
    await s.resend(m, ep.id, T0 + 5);
    expect((await s.complete([failed(job!, T0 + 6, T0 + 60_000)], T0 + 7)).fenced).toEqual([job!.delivery.id]);
    expect((await s.listDeliveries(m.id))[0]).toMatchObject({ status: "pending", nextAttemptAt: T0 + 5 });
    await s.releaseLeases("w", [held(job!)], T0 + 8); // no longer its own: changes nothing
    const [again] = await claim(s, T0 + 9, { owner: "other" });
    expect(again!.delivery.id).toBe(job!.delivery.id);
  });

  it("disables an endpoint only on a completion that was applied", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    await publishOne(s, a);
    const [stale] = await claim(s, T0, { owner: "frozen", leaseMs: 1000 });
    const [live] = await claim(s, T0 + 2000, { owner: "live" });
    await s.complete([succeeded(live!, T0 + 2001)], T0 + 2001);
    const effects = await s.complete([failed(stale!, T0 + 3000, null, { disableEndpoint: "gone" })], T0 + 3000);
    expect(effects).toEqual({ disabled: [], fenced: [stale!.delivery.id] });
    expect((await s.getEndpoint(a.id, ep.id))!.status).toBe("active");
  });

  it("checks leases: only unexpired ones still held under the same generation, with the endpoint's status now", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    await publishOne(s, a);
    await publishOne(s, a, { id: message(a, {}, T0 + 1).id }, T0 + 1);
    const [j1, j2] = await claim(s, T0 + 1, { owner: "w", leaseMs: 1000 });
    const checked = await s.checkLeases("w", [held(j1!), held(j2!)], T0 + 500);
    expect(checked.map((c) => c.id).sort()).toEqual([j1!.delivery.id, j2!.delivery.id].sort());
    expect(checked[0]).toMatchObject({ endpointStatus: "active", endpointUpdatedAt: ep.updatedAt });
    expect(await s.checkLeases("other", [held(j1!)], T0 + 500)).toEqual([]);
    expect(await s.checkLeases("w", [{ ...held(j1!), gen: j1!.lease.gen + 1 }], T0 + 500)).toEqual([]);
    expect(await s.checkLeases("w", [held(j1!)], T0 + 1001)).toEqual([]); // ran out by the worker's clock
    await s.setEndpointEnabled(a.id, ep.id, false, T0 + 600);
    const [after] = await s.checkLeases("w", [held(j1!)], T0 + 700);
    expect(after).toMatchObject({ endpointStatus: "disabled", endpointUpdatedAt: T0 + 600 });
    await s.deleteEndpoint(a.id, ep.id);
    expect(await s.checkLeases("w", [held(j1!), held(j2!)], T0 + 800)).toEqual([]);
  });

  it("leases at most `max` deliveries of a publish to the local worker; the rest are due for anyone", async () => {
    const s = store();
    const a = await app(s);
    await endpoint(s, a);
    await endpoint(s, a);
    await endpoint(s, a);
    const [r] = await s.publish([{ message: message(a) }], { now: T0, lease: { owner: "local", until: T0 + 60_000, max: 2 } });
    expect(r!.jobs).toHaveLength(2);
    // What the lease did not take is counted: the publisher wakes the workers for it.
    expect(r!.queued).toBe(1);
    const rest = await claim(s, T0, { owner: "other" });
    expect(rest).toHaveLength(1);
    expect(rest[0]!.delivery.id).not.toBe(r!.jobs[0]!.delivery.id);
    expect(rest[0]!.delivery.id).not.toBe(r!.jobs[1]!.delivery.id);
  });

  it("counts what a publish left for a claim: nothing for a message to no endpoint or a disabled one, or a repeated key", async () => {
    const s = store();
    const a = await app(s);
    const [none] = await s.publish([{ message: message(a) }], { now: T0 });
    expect(none).toMatchObject({ created: true, jobs: [], queued: 0 });
    const off = await endpoint(s, a);
    await s.setEndpointEnabled(a.id, off.id, false, T0);
    await endpoint(s, a);
    await endpoint(s, a);
    const [unleased] = await s.publish([{ message: message(a, { eventId: "k1" }) }], { now: T0 + 1 });
    expect(unleased).toMatchObject({ created: true, queued: 2 });
    const [leased] = await s.publish([{ message: message(a) }], { now: T0 + 2, lease: { owner: "local", until: T0 + 60_000, max: 10 } });
    expect(leased!.jobs).toHaveLength(2);
    expect(leased!.queued).toBe(0);
    const [again] = await s.publish([{ message: message(a, { eventId: "k1" }) }], { now: T0 + 3 });
    expect(again).toMatchObject({ created: false, queued: 0 });
  });

  it("gives back what a claim whose answer was lost leased, and nothing else", async () => {
    const s = store();
    const a = await app(s);
    await endpoint(s, a);
    await endpoint(s, a);
    await endpoint(s, a);
    // Leased at publish (generation 0): not a claim's, left alone.
    const [local] = await s.publish([{ message: message(a) }], { now: T0, lease: { owner: "w", until: T0 + 60_000, max: 1 } });
    const [kept] = await claim(s, T0, { owner: "w", limit: 1 }); // answered: the worker holds it
    const lost = await claim(s, T0, { owner: "w", limit: 1 }); // same deadline, answer lost
    await publishOne(s, a, {}, T0 + 1);
    const [other] = await claim(s, T0 + 1, { owner: "other", leaseMs: 59_999, limit: 1 }); // same deadline, another worker
    expect([local!.jobs.length, kept, lost.length, other].every(Boolean)).toBe(true);

    expect(await s.releaseUnanswered("w", T0 + 60_000, [kept!.delivery.id], T0 + 10)).toBe(1);
    const again = await claim(s, T0 + 10, { owner: "w2" });
    expect(again.map((j) => j.delivery.id)).toContain(lost[0]!.delivery.id);
    const stillLeased = [local!.jobs[0]!.delivery.id, kept!.delivery.id, other!.delivery.id];
    expect(again.map((j) => j.delivery.id).filter((id) => stillLeased.includes(id))).toEqual([]);
    expect(await s.releaseUnanswered("w", T0 + 60_000, [], T0 + 11)).toBe(1); // `kept`, once no longer held
  });

  it("does not disable an endpoint as failing for a retry cycle that began before it was enabled again", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    await publishOne(s, a);
    const [job] = await claim(s, T0 + 1, { owner: "w" });
    // While the delivery's last attempt is in flight, the endpoint is disabled and enabled again.
    await s.setEndpointEnabled(a.id, ep.id, false, T0 + 2);
    await s.setEndpointEnabled(a.id, ep.id, true, T0 + 3);
    const effects = await s.complete([failed(job!, T0 + 4, null, { disableEndpoint: "failing", cycleStartedAt: T0 + 1 })], T0 + 5);
    expect(effects.disabled).toEqual([]);
    expect((await s.getEndpoint(a.id, ep.id))!.status).toBe("active");
    // A cycle that began after the enable still counts.
    await publishOne(s, a, { id: message(a, {}, T0 + 6).id }, T0 + 6);
    const [later] = await claim(s, T0 + 6, { owner: "w" });
    const after = await s.complete([failed(later!, T0 + 8, null, { disableEndpoint: "failing", cycleStartedAt: T0 + 7 })], T0 + 9);
    expect(after.disabled).toEqual([{ endpointId: ep.id, reason: "failing" }]);
  });

  it("moves its change epoch on every endpoint change a worker must see, and not on a success", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const gone = await endpoint(s, a);
    const detach = await s.attachWorker("w", () => {});
    try {
      // PostgreSQL hears of changes by NOTIFY, a moment after their commit.
      const moves = async (change: () => Promise<unknown>) => {
        const before = s.changeEpoch();
        expect(before).not.toBe(-1);
        await change();
        await eventually(() => s.changeEpoch() !== before, 2000);
      };
      await moves(() => s.updateEndpoint(a.id, ep.id, { description: "new" }, T0 + 1));
      await moves(() => s.setEndpointEnabled(a.id, ep.id, false, T0 + 2));
      await moves(() => s.setEndpointEnabled(a.id, ep.id, true, T0 + 3));
      await moves(() => s.rotateEndpointSecret(a.id, ep.id, generateSecret(), T0 + 99, T0 + 4));
      await moves(() => s.deleteEndpoint(a.id, gone.id));
      // Recording a success (the endpoint's last success moves) is no news.
      await publishOne(s, a);
      const [job] = await claim(s, T0 + 5);
      const before = s.changeEpoch();
      await s.complete([succeeded(job!, T0 + 6)], T0 + 6);
      await new Promise((r) => setTimeout(r, 200));
      expect(s.changeEpoch()).toBe(before);
    } finally {
      await detach();
    }
  });
}
