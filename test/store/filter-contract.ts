import { expect, it } from "vitest";
import type { Application, Endpoint } from "../../src/store/model.js";
import type { Store } from "../../src/store/store.js";
import { T0, type TestStore, app, endpoint, message } from "./fixtures.js";

/**
 * Payload filters at publish: a message whose payload an endpoint's filter
 * does not match creates no delivery for it (not even a skipped one); the
 * other endpoints of the app are unaffected.
 */
export function filterContract(ctx: () => TestStore): void {
  const store = () => ctx().store;
  const targets = async (s: Store, messageId: string) =>
    (await s.listDeliveries(messageId as never)).map((d) => ({ endpointId: d.endpointId, status: d.status })).sort((a, b) => a.endpointId.localeCompare(b.endpointId));
  const ids = (...eps: Endpoint[]) => eps.map((e) => e.id).sort();
  const publish = async (s: Store, a: Application, payload: unknown, extra: Parameters<typeof message>[1] = {}) => {
    const [r] = await s.publish([{ message: message(a, { payload: JSON.stringify(payload), ...extra }) }], { now: T0 });
    return r!.message.id;
  };

  it("stores, reads back, patches and clears an endpoint's filter", async () => {
    const s = store();
    const a = await app(s);
    const filter = { "data.amount": { $gte: 100 }, $or: [{ "data.tags": "vip" }, { "data.note": { $exists: false } }] };
    const ep = await endpoint(s, a, { filter });
    expect(ep.filter).toEqual(filter);
    expect((await s.getEndpoint(a.id, ep.id))!.filter).toEqual(filter);
    expect((await s.listEndpoints(a.id, { limit: 10 })).data[0]!.filter).toEqual(filter);
    expect((await s.updateEndpoint(a.id, ep.id, { description: "x" }, T0 + 1))!.filter).toEqual(filter);
    expect((await s.updateEndpoint(a.id, ep.id, { filter: { type: "b" } }, T0 + 2))!.filter).toEqual({ type: "b" });
    expect((await s.updateEndpoint(a.id, ep.id, { filter: null }, T0 + 3))!.filter).toBeNull();
    expect((await endpoint(s, a)).filter).toBeNull();
  });

  it("creates deliveries only for the endpoints whose filter matches the payload", async () => {
    const s = store();
    const a = await app(s);
    const all = await endpoint(s, a);
    const big = await endpoint(s, a, { filter: { "data.amount": { $gt: 100 } } });
    const eur = await endpoint(s, a, { filter: { "data.currency": { $in: ["EUR"] } } });
    const ordersOnly = await endpoint(s, a, { events: ["order.*"], filter: { "data.amount": { $gt: 0 } } });
    const disabled = await endpoint(s, a, { status: "disabled", disabledReason: "manual", filter: { "data.currency": "EUR" } });

    const m1 = await publish(s, a, { data: { amount: 150, currency: "EUR" } });
    expect((await targets(s, m1)).map((d) => d.endpointId)).toEqual(ids(all, big, eur, ordersOnly, disabled));
    // A disabled endpoint whose filter matches keeps its delivery as skipped, as without a filter.
    expect((await targets(s, m1)).find((d) => d.endpointId === disabled.id)!.status).toBe("skipped");

    const m2 = await publish(s, a, { data: { amount: 50, currency: "USD" } });
    expect((await targets(s, m2)).map((d) => d.endpointId)).toEqual(ids(all, ordersOnly));

    // Event types first: an endpoint that does not take the event type gets nothing, whatever the payload.
    const m3 = await publish(s, a, { data: { amount: 150, currency: "USD" } }, { eventType: "pet.adopted" });
    expect((await targets(s, m3)).map((d) => d.endpointId)).toEqual(ids(all, big));

    // A payload that is not an object reaches no path.
    const m4 = await publish(s, a, [1, 2]);
    expect((await targets(s, m4)).map((d) => d.endpointId)).toEqual(ids(all));
  });

  it("filters every message of a batch on its own payload, across apps, and leases only the matching deliveries", async () => {
    const s = store();
    const a = await app(s);
    const b = await app(s, { name: "b" });
    const aAll = await endpoint(s, a);
    const aPaid = await endpoint(s, a, { filter: { status: "paid" } });
    const bPaid = await endpoint(s, b, { filter: { status: "paid" } });
    const batch = [
      message(a, { payload: '{"status":"paid"}' }),
      message(a, { payload: '{"status":"open"}' }),
      message(b, { payload: '{"status":"paid"}' }),
      message(b, { payload: '{"status":"open"}' }),
    ];
    const results = await s.publish(batch.map((m) => ({ message: m })), { now: T0, lease: { owner: "w1", until: T0 + 30_000, max: 100 } });
    expect(results.map((r) => r.jobs.map((j) => j.endpoint.id).sort())).toEqual([ids(aAll, aPaid), ids(aAll), ids(bPaid), []]);
    expect((await targets(s, batch[1]!.id)).map((d) => d.endpointId)).toEqual(ids(aAll));
    expect(await targets(s, batch[3]!.id)).toEqual([]);
  });

  it("sends a message addressed to one endpoint (a test event) whatever its filter", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a, { filter: { never: { $exists: true } } });
    const [r] = await s.publish([{ message: message(a, { eventType: "webhook.test" }), only: ep.id }], { now: T0 });
    expect((await targets(s, r!.message.id)).map((d) => d.endpointId)).toEqual([ep.id]);
  });

  it("applies a changed filter to the next publish", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a, { filter: { kind: "a" } });
    expect(await targets(s, await publish(s, a, { kind: "b" }))).toEqual([]);
    await s.updateEndpoint(a.id, ep.id, { filter: { kind: "b" } }, T0 + 1);
    expect((await targets(s, await publish(s, a, { kind: "b" }))).map((d) => d.endpointId)).toEqual([ep.id]);
    await s.updateEndpoint(a.id, ep.id, { filter: null }, T0 + 2);
    expect((await targets(s, await publish(s, a, { kind: "c" }))).map((d) => d.endpointId)).toEqual([ep.id]);
  });
}
