import { expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";
import { T0, type TestStore, app, claim, endpoint, failed, publishOne, succeeded } from "./fixtures.js";

const HOUR = 3_600_000;

/**
 * The operator's triage list: every application's endpoints that are disabled
 * or whose newest attempt failed, with since when, the newest attempt, the
 * attempts of a window and the backlog; healthy and untried endpoints are not
 * on it.
 */
export function triageContract(ctx: () => TestStore): void {
  const store = () => ctx().store;

  it("lists disabled and failing endpoints of every application, with their figures, newest first and paged", async () => {
    const s = store();
    const shop = await app(s, { name: "Shop", uid: "shop" });
    const billing = await app(s, { id: newId("app", T0 + 1), name: "Billing" });
    const healthy = await endpoint(s, shop, { id: newId("ep", T0 + 1) });
    const flaky = await endpoint(s, shop, { id: newId("ep", T0 + 2) });
    const dead = await endpoint(s, billing, { id: newId("ep", T0 + 3) });
    const untried = await endpoint(s, billing, { id: newId("ep", T0 + 4), status: "disabled", disabledReason: "manual" });
    const fresh = await endpoint(s, shop, { id: newId("ep", T0 + 5) });

    // Shop: healthy succeeds twice; flaky succeeds once, then fails twice (one retry still pending).
    await publishOne(s, shop, {}, T0);
    await publishOne(s, shop, {}, T0 + 10);
    const first = await claim(s, T0 + 10);
    const of = (id: string) => first.filter((j) => j.endpoint.id === id);
    const [h1, h2] = of(healthy.id);
    const [f1, f2] = of(flaky.id);
    const [n1, n2] = of(fresh.id);
    await s.complete([succeeded(h1!, T0 + 20), succeeded(h2!, T0 + 21), succeeded(f1!, T0 + 22), failed(f2!, T0 + 30, null), succeeded(n1!, T0 + 23), succeeded(n2!, T0 + 24)], T0 + 31);
    await publishOne(s, shop, {}, T0 + 40);
    const [f3] = (await claim(s, T0 + 40)).filter((j) => j.endpoint.id === flaky.id);
    await s.complete([failed(f3!, T0 + 50, T0 + HOUR)], T0 + 51);

    // Billing: dead fails and is disabled as failing; a later message is skipped for it.
    await publishOne(s, billing, {}, T0 + 60);
    const [d1] = await claim(s, T0 + 60);
    await s.complete([failed(d1!, T0 + 70, null, { disableEndpoint: "failing" })], T0 + 71);
    await s.recordOperationalEvent({
      id: newId("opev", T0 + 71),
      type: "endpoint.disabled",
      appId: billing.id,
      endpointId: dead.id,
      messageId: null,
      data: {},
      createdAt: T0 + 71,
    });
    await publishOne(s, billing, {}, T0 + 80);

    const page = await s.listTriage({ since: T0 }, { limit: 10 });
    expect(page.nextCursor).toBeNull();
    expect(page.data.map((e) => e.endpoint.id)).toEqual([untried.id, dead.id, flaky.id]);
    const [u, d, f] = page.data;

    expect(f).toMatchObject({
      endpoint: { id: flaky.id, appId: shop.id, status: "active", disabledReason: null, lastSuccessAt: T0 + 22, url: flaky.url },
      application: { id: shop.id, name: "Shop", uid: "shop" },
      lastAttempt: { success: false, statusCode: 500, errorKind: "http_status", createdAt: T0 + 50, messageId: f3!.message.id },
      failingSince: T0 + 30,
      disabledAt: null,
      window: { attempts: 3, succeeded: 1 },
      backlog: { pending: 1, skipped: 0 },
    });
    expect(d).toMatchObject({
      endpoint: { id: dead.id, status: "disabled", disabledReason: "failing", lastSuccessAt: null },
      application: { id: billing.id, name: "Billing", uid: null },
      lastAttempt: { success: false, createdAt: T0 + 70 },
      failingSince: T0 + 70,
      disabledAt: T0 + 71,
      window: { attempts: 1, succeeded: 0 },
      backlog: { pending: 0, skipped: 1 },
    });
    expect(u).toMatchObject({ endpoint: { id: untried.id, status: "disabled" }, lastAttempt: null, failingSince: null, window: { attempts: 0, succeeded: 0 }, backlog: { pending: 0, skipped: 2 } });
    // No secret or credential is carried.
    expect(JSON.stringify(page)).not.toContain("whsec_");

    // The window: only attempts at or after `since` count.
    const later = await s.listTriage({ since: T0 + 45 }, { limit: 10 });
    expect(later.data.find((e) => e.endpoint.id === flaky.id)!.window).toEqual({ attempts: 1, succeeded: 0 });

    // Paging: the cursor is the last endpoint id of the page.
    const one = await s.listTriage({ since: T0 }, { limit: 2 });
    expect(one.data.map((e) => e.endpoint.id)).toEqual([untried.id, dead.id]);
    expect(one.nextCursor).toBe(dead.id);
    const two = await s.listTriage({ since: T0 }, { limit: 2, cursor: one.nextCursor! });
    expect(two.data.map((e) => e.endpoint.id)).toEqual([flaky.id]);
    expect(two.nextCursor).toBeNull();

    // A success takes an endpoint off the list.
    const [retry] = (await claim(s, T0 + HOUR)).filter((j) => j.endpoint.id === flaky.id);
    await s.complete([succeeded(retry!, T0 + HOUR + 5)], T0 + HOUR + 6);
    expect((await s.listTriage({ since: T0 }, { limit: 10 })).data.map((e) => e.endpoint.id)).toEqual([untried.id, dead.id]);
  });

  it("is empty when nothing needs an operator", async () => {
    const s = store();
    const a = await app(s);
    await endpoint(s, a);
    expect(await s.listTriage({ since: T0 }, { limit: 50 })).toEqual({ data: [], nextCursor: null });
  });
}
