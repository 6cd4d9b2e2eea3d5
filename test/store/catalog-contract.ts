import { expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";
import type { Store } from "../../src/store/store.js";
import { T0, app, endpoint, publishOne, succeeded } from "./fixtures.js";

/** Settings, applications, event types, endpoints, admin keys and operational events. */
export function catalogContract(store: () => Store): void {
  it("migrates again without harm", async () => {
    await store().migrate();
    await store().migrate();
    expect(await store().listApplications({ limit: 10 })).toEqual({ data: [], nextCursor: null });
  });

  it("keeps settings, and sets one only if absent", async () => {
    const s = store();
    expect(await s.getSetting("k")).toBeNull();
    expect(await s.setSettingIfAbsent("k", "first")).toBe(true);
    expect(await s.setSettingIfAbsent("k", "second")).toBe(false);
    expect(await s.getSetting("k")).toBe("first");
    await s.setSetting("k", "third");
    expect(await s.getSetting("k")).toBe("third");
  });

  it("keeps an application's portal settings, changes them with the application, and resets them to null", async () => {
    const s = store();
    const portal = { name: "Acme", accentColor: "#0a7d4b", frameAncestors: ["https://app.example.com"] };
    const a = await app(s, { portal });
    expect((await s.getApplication(a.id))?.portal).toEqual(portal);
    expect((await s.updateApplication(a.id, { name: "renamed" }, T0 + 1))?.portal).toEqual(portal);
    expect((await s.getApplication(a.id))?.portal).toEqual(portal);
    await s.updateApplication(a.id, { portal: null }, T0 + 2);
    expect((await s.getApplication(a.id))?.portal).toBeNull();
    expect((await s.getApplication((await app(s, { id: newId("app", T0 + 3) })).id))?.portal).toBeNull();
  });

  it("finds an application by a uid shaped like an id, and lets an id win over such a uid", async () => {
    const s = store();
    const a = await app(s, { uid: "plain" });
    // A uid may look like an id: of no application (found by uid), or of another one (that one wins).
    const idShaped = await app(s, { id: newId("app", T0 + 2), uid: newId("app", T0 + 3) });
    const twin = await app(s, { id: newId("app", T0 + 4), uid: a.id });
    expect(await s.getApplication(idShaped.uid!)).toEqual(idShaped);
    expect(await s.getApplication(a.id)).toEqual(a);
    expect(await s.getApplication(twin.id)).toEqual(twin);
    expect(await s.getApplication("plain")).toEqual(a);
  });

  it("creates, finds (by id or uid), pages, updates and deletes applications", async () => {
    const s = store();
    const a = await app(s, { uid: "shop", metadata: { tier: "gold", a: "1" } });
    const b = await app(s, { id: newId("app", T0 + 1), name: "second" });
    expect(await s.getApplication(a.id)).toEqual(a);
    expect(await s.getApplication("shop")).toEqual(a);
    expect(await s.getApplication("nope")).toBeNull();
    await expect(app(s, { uid: "shop" })).rejects.toMatchObject({ code: "conflict" });

    const first = await s.listApplications({ limit: 1 });
    expect(first.data.map((x) => x.id)).toEqual([b.id]);
    expect(first.nextCursor).toBe(b.id);
    const second = await s.listApplications({ limit: 1, cursor: first.nextCursor! });
    expect(second).toEqual({ data: [a], nextCursor: null });

    const updated = await s.updateApplication(a.id, { name: "Shop", uid: undefined }, T0 + 5);
    expect(updated).toMatchObject({ name: "Shop", uid: "shop", metadata: { tier: "gold", a: "1" }, updatedAt: T0 + 5 });
    expect(await s.getApplication(a.id)).toEqual(updated);
    await expect(s.updateApplication(b.id, { uid: "shop" }, T0)).rejects.toMatchObject({ code: "conflict" });
    expect(await s.updateApplication(newId("app"), { name: "x" }, T0)).toBeNull();

    expect(await s.deleteApplication(a.id)).toBe(true);
    expect(await s.deleteApplication(a.id)).toBe(false);
    expect(await s.getApplication("shop")).toBeNull();
  });

  it("deletes an application with its endpoints, messages, deliveries and attempts", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const { message } = await publishOne(s, a);
    const [job] = await s.claimDue({ owner: "w", now: T0, leaseUntil: T0 + 1000, limit: 10 });
    await s.complete([succeeded(job!, T0)], T0);
    expect((await s.listEndpointAttempts(ep.id, { limit: 10 })).data).toHaveLength(1);
    // Settings named `…:<app id>` belong to the application (its portal tokens' expire-all time).
    const other = await app(s, { id: newId("app", T0 + 1) });
    await s.setSetting(`portal_tokens_expired_before:${a.id}`, "1");
    await s.setSetting(`portal_tokens_expired_before:${other.id}`, "2");
    await s.deleteApplication(a.id);
    expect(await s.getSetting(`portal_tokens_expired_before:${a.id}`)).toBeNull();
    expect(await s.getSetting(`portal_tokens_expired_before:${other.id}`)).toBe("2");
    expect(await s.getEndpoint(a.id, ep.id)).toBeNull();
    expect(await s.listDeliveries(message.id)).toEqual([]);
    expect((await s.listEndpointAttempts(ep.id, { limit: 10 })).data).toEqual([]);
    expect((await s.listMessageAttempts(message.id, { limit: 10 })).data).toEqual([]);
  });

  it("keeps event types, their schema and examples as written, and archives them", async () => {
    const s = store();
    const schema = { type: "object", properties: { zeta: { type: "string" }, alpha: { type: "number" } }, required: ["zeta"] };
    const examples = [{ zeta: "z", alpha: 1 }];
    const t = { id: newId("evt", T0), name: "order.created", description: "d", schema, examples, archived: false, createdAt: T0, updatedAt: T0 };
    await s.createEventType(t);
    const read = await s.getEventType("order.created");
    expect(read).toEqual(t);
    expect(JSON.stringify(read!.schema)).toBe(JSON.stringify(schema)); // key order kept
    expect(JSON.stringify(read!.examples)).toBe(JSON.stringify(examples));
    await expect(s.createEventType({ ...t, id: newId("evt", T0) })).rejects.toMatchObject({ code: "conflict" });
    await s.createEventType({ ...t, id: newId("evt", T0 + 1), name: "order.paid", schema: null, examples: [] });

    await s.updateEventType("order.created", { archived: true, description: "old" }, T0 + 2);
    expect((await s.listEventTypes({ limit: 10 })).data.map((x) => x.name)).toEqual(["order.paid"]);
    expect((await s.listEventTypes({ limit: 10, includeArchived: true })).data.map((x) => x.name)).toEqual(["order.paid", "order.created"]);
    expect(await s.getEventType("order.created")).toMatchObject({ archived: true, description: "old", updatedAt: T0 + 2, schema });
    await expect(s.updateEventType("order.paid", { name: "order.created" }, T0)).rejects.toMatchObject({ code: "conflict" });
    expect(await s.updateEventType("nope", { description: "x" }, T0)).toBeNull();
    expect(await s.deleteEventType("order.paid")).toBe(true);
    expect(await s.deleteEventType("order.paid")).toBe(false);
  });

  it("creates, lists, updates, rotates and deletes endpoints", async () => {
    const s = store();
    const a = await app(s);
    const other = await app(s, { id: newId("app", T0) });
    const auth = { type: "basic" as const, username: "u", password: "p" };
    const ep = await endpoint(s, a, { events: ["order.*"], channels: ["eu"], headers: { "x-b": "2", "x-a": "1" }, authentication: auth, timeoutMs: 2000, rateLimit: 5, metadata: { k: "v" } });
    const ep2 = await endpoint(s, a, { id: newId("ep", T0 + 1) });
    expect(ep).toMatchObject({ previousSecret: null, previousSecretExpiresAt: null, lastSuccessAt: null, updatedAt: T0 });
    expect(await s.getEndpoint(a.id, ep.id)).toEqual(ep);
    expect(await s.getEndpoint(other.id, ep.id)).toBeNull(); // scoped to its application
    const page = await s.listEndpoints(a.id, { limit: 1 });
    expect(page.data.map((e) => e.id)).toEqual([ep2.id]);
    expect((await s.listEndpoints(a.id, { limit: 1, cursor: page.nextCursor! })).data.map((e) => e.id)).toEqual([ep.id]);
    expect((await s.listEndpoints(other.id, { limit: 10 })).data).toEqual([]);

    const patched = await s.updateEndpoint(a.id, ep.id, { url: "https://example.test/v2" }, T0 + 1);
    expect(patched).toMatchObject({ status: "active", url: "https://example.test/v2", events: ["order.*"], headers: { "x-b": "2", "x-a": "1" }, updatedAt: T0 + 1 });
    expect(await s.getEndpoint(a.id, ep.id)).toEqual(patched);
    expect(await s.updateEndpoint(other.id, ep.id, { description: "x" }, T0)).toBeNull();

    const rotated = await s.rotateEndpointSecret(a.id, ep.id, "whsec_new", T0 + 86_400_000, T0 + 3);
    expect(rotated).toMatchObject({ secret: "whsec_new", previousSecret: ep.secret, previousSecretExpiresAt: T0 + 86_400_000, updatedAt: T0 + 3 });
    expect(await s.getEndpoint(a.id, ep.id)).toEqual(rotated);
    expect(await s.rotateEndpointSecret(other.id, ep.id, "whsec_x", T0, T0)).toBeNull();

    expect(await s.deleteEndpoint(other.id, ep.id)).toBe(false);
    expect(await s.deleteEndpoint(a.id, ep.id)).toBe(true);
    expect(await s.getEndpoint(a.id, ep.id)).toBeNull();
  });

  it("keeps admin keys by hash and an operational-event log", async () => {
    const s = store();
    const k1 = { id: newId("key", T0), name: "ci", keyHash: "a".repeat(64), createdAt: T0 };
    const k2 = { id: newId("key", T0 + 1), name: "ops", keyHash: "b".repeat(64), createdAt: T0 + 1 };
    await s.createAdminKey(k1);
    await s.createAdminKey(k2);
    await expect(s.createAdminKey({ ...k1, id: newId("key", T0) })).rejects.toMatchObject({ code: "conflict" });
    expect(await s.getAdminKeyByHash("b".repeat(64))).toEqual(k2);
    expect(await s.getAdminKeyByHash("c".repeat(64))).toBeNull();
    expect((await s.listAdminKeys({ limit: 1 })).data).toEqual([k2]);
    expect(await s.deleteAdminKey(k2.id)).toBe(true);
    expect(await s.deleteAdminKey(k2.id)).toBe(false);

    const a = await app(s);
    const ep = newId("ep", T0);
    const e1 = { id: newId("opev", T0), type: "endpoint.created" as const, appId: a.id, endpointId: ep, messageId: null, data: { z: 1, a: [true] }, createdAt: T0 };
    const e2 = { ...e1, id: newId("opev", T0 + 1), type: "endpoint.disabled" as const, data: { reason: "gone" }, createdAt: T0 + 1 };
    await s.recordOperationalEvent(e1);
    await s.recordOperationalEvent(e2);
    expect((await s.listOperationalEvents({}, { limit: 10 })).data).toEqual([e2, e1]);
    expect((await s.listOperationalEvents({ type: "endpoint.created", appId: a.id }, { limit: 10 })).data).toEqual([e1]);
    expect((await s.listOperationalEvents({ endpointId: newId("ep") }, { limit: 10 })).data).toEqual([]);
    expect(JSON.stringify((await s.listOperationalEvents({ type: "endpoint.created" }, { limit: 1 })).data[0]!.data)).toBe('{"z":1,"a":[true]}');
  });
}
