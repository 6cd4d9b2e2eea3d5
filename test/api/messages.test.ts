import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MessageId } from "../../src/core/ids.js";
import { openApi, recordAttempts, type TestApi } from "./helpers.js";

let t: TestApi;
let appId: string;
let epA: string;
let epB: string;
const msgs = "/api/v1/applications/shop/messages";
beforeAll(async () => {
  t = await openApi();
  appId = (await t.call("POST", "/api/v1/applications", { name: "Shop", uid: "shop" })).body.id;
  epA = (await t.call("POST", "/api/v1/applications/shop/endpoints", { url: "https://a.example.com/", events: ["order.*"] })).body.id;
  epB = (await t.call("POST", "/api/v1/applications/shop/endpoints", { url: "https://b.example.com/", channels: ["eu"] })).body.id;
});
afterAll(() => t.close());

describe("publishing", () => {
  it("answers 202 with the message and fans out to matching endpoints", async () => {
    const payload = { id: "evt-1", eventType: "order.created", data: { total: 59.98, items: [{ q: 2 }] } };
    const res = await t.call("POST", msgs, { eventType: "order.created", payload, channels: ["eu"] });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^msg_/),
      eventType: "order.created",
      eventId: null,
      payload,
      channels: ["eu"],
      timestamp: expect.stringMatching(/Z$/),
    });
    const stored = await t.store.getMessage(appId as never, res.body.id);
    expect(stored!.payload).toBe(JSON.stringify(payload));
    const deliveries = await t.store.listDeliveries(res.body.id);
    expect(deliveries.map((d) => d.endpointId).sort()).toEqual([epA, epB].sort());

    const noChannel = await t.call("POST", `/api/v1/applications/${appId}/messages`, { eventType: "pet.adopted", payload: {} });
    expect(noChannel.status).toBe(202);
    expect(await t.store.listDeliveries(noChannel.body.id)).toEqual([]);
  });

  it("dedups on the Idempotency-Key header or the body id: same message, one delivery", async () => {
    const body = { eventType: "order.created", payload: { n: 1 } };
    const first = await t.call("POST", msgs, body, { "idempotency-key": "order-42" });
    const second = await t.call("POST", msgs, body, { "idempotency-key": "order-42" });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body.id).toBe(first.body.id);
    expect(second.headers["idempotent-replayed"]).toBe("true");
    // The first answer is written as text around the stored payload, the replay from the stored message: the same JSON.
    expect(second.body).toEqual(first.body);
    expect(first.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(await t.store.listDeliveries(first.body.id)).toHaveLength(1);

    const viaBody = await t.call("POST", msgs, { ...body, id: "order-43" });
    const viaBodyAgain = await t.call("POST", msgs, { ...body, id: "order-43" });
    expect(viaBodyAgain.body.id).toBe(viaBody.body.id);
    expect(viaBody.body.eventId).toBe("order-43");
    // The header wins over the body id.
    const headerWins = await t.call("POST", msgs, { ...body, id: "something-else" }, { "idempotency-key": "order-42" });
    expect(headerWins.body.id).toBe(first.body.id);

    expect((await t.call("POST", msgs, body, { "idempotency-key": "x".repeat(257) })).body.errors[0].path).toBe("headers.idempotency-key");
    expect((await t.call("POST", msgs, { ...body, id: "" })).status).toBe(422);
  });

  it("answers 413 payload_too_large for a payload over HERALD_MAX_PAYLOAD_BYTES", async () => {
    const res = await t.call("POST", msgs, { eventType: "big.one", payload: { blob: "x".repeat(300_000) } });
    expect(res).toMatchObject({ status: 413, body: { code: "payload_too_large" } });
    expect(res.body.detail).toContain(String(t.config.maxPayloadBytes));
    const limit = t.config.maxPayloadBytes - JSON.stringify({ blob: "" }).length;
    expect((await t.call("POST", msgs, { eventType: "big.one", payload: { blob: "x".repeat(limit) } })).status).toBe(202);
  });

  it("rejects bad event types, payloads, channels and unknown fields", async () => {
    const res = await t.call("POST", msgs, { eventType: "has space", payload: [1], channels: ["ok", "not ok"], extra: 1 });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(["/channels/1", "/eventType", "/extra", "/payload"]);
    expect((await t.call("POST", msgs, { eventType: "a", payload: "{}" })).status).toBe(422);
    expect((await t.call("POST", msgs, { eventType: "a", payload: {}, channels: Array(11).fill("c") })).status).toBe(422);
    expect((await t.call("POST", "/api/v1/applications/nope/messages", { eventType: "a", payload: {} })).status).toBe(404);
  });
});

describe("reading the log", () => {
  it("lists messages newest first with filters and pagination", async () => {
    const fresh = await openApi();
    try {
      await fresh.call("POST", "/api/v1/applications", { name: "x", uid: "x" });
      const ep = (await fresh.call("POST", "/api/v1/applications/x/endpoints", { url: "https://x.example.com/", events: ["keep.*"] })).body.id;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await fresh.call("POST", "/api/v1/applications/x/messages", { eventType: i % 2 ? "skip.me" : "keep.me", payload: { i } })).body.id);
      const page = await fresh.call("GET", "/api/v1/applications/x/messages?limit=2");
      expect(page.body.data.map((m: { id: string }) => m.id)).toEqual([ids[4], ids[3]]);
      const rest = await fresh.call("GET", `/api/v1/applications/x/messages?cursor=${page.body.nextCursor}`);
      expect(rest.body).toMatchObject({ nextCursor: null });
      expect(rest.body.data.map((m: { id: string }) => m.id)).toEqual([ids[2], ids[1], ids[0]]);

      const kept = await fresh.call("GET", "/api/v1/applications/x/messages?eventType=keep.me");
      expect(kept.body.data.map((m: { id: string }) => m.id)).toEqual([ids[4], ids[2], ids[0]]);
      const pending = await fresh.call("GET", "/api/v1/applications/x/messages?status=pending");
      expect(pending.body.data).toHaveLength(3);
      await recordAttempts(fresh.store, ep, { success: true });
      expect((await fresh.call("GET", "/api/v1/applications/x/messages?status=succeeded")).body.data).toHaveLength(3);
      expect((await fresh.call("GET", "/api/v1/applications/x/messages?status=pending")).body.data).toHaveLength(0);
      const future = new Date(Date.now() + 60_000).toISOString();
      expect((await fresh.call("GET", `/api/v1/applications/x/messages?after=${future}`)).body.data).toHaveLength(0);
      expect((await fresh.call("GET", `/api/v1/applications/x/messages?before=${future}`)).body.data).toHaveLength(5);
      expect((await fresh.call("GET", "/api/v1/applications/x/messages?status=done")).status).toBe(422);
      expect((await fresh.call("GET", "/api/v1/applications/x/messages?cursor=app_01ARZ3NDEKTSV4RRFFQ69G5FAV")).status).toBe(422);
    } finally {
      await fresh.close();
    }
  });

  it("reads one message, its deliveries and its attempts", async () => {
    const msg = (await t.call("POST", msgs, { eventType: "order.paid", payload: { ok: true } })).body;
    expect((await t.call("GET", `${msgs}/${msg.id}`)).body).toEqual(msg);
    const deliveries = await t.call("GET", `${msgs}/${msg.id}/deliveries`);
    expect(deliveries.body.data).toEqual([
      {
        id: expect.stringMatching(/^dlv_/),
        messageId: msg.id,
        endpointId: epA,
        status: "pending",
        attempts: 0,
        nextAttemptAt: expect.any(String),
        lastAttemptAt: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);
    await recordAttempts(t.store, epA, { success: true });
    const attempts = await t.call("GET", `${msgs}/${msg.id}/attempts`);
    expect(attempts.body.data.some((a: { messageId: string; success: boolean }) => a.messageId === msg.id && a.success)).toBe(true);
    expect(attempts.body.nextCursor).toBeNull();

    for (const path of [`${msgs}/msg_01ARZ3NDEKTSV4RRFFQ69G5FAV`, `${msgs}/junk/deliveries`, `${msgs}/msg_01ARZ3NDEKTSV4RRFFQ69G5FAV/attempts`]) {
      const res = await t.call("GET", path);
      expect(res.status, path).toBe(404);
      expect(res.body.detail).toMatch(/^message/);
    }
  });

  it("resends a message to one endpoint (409 while it is disabled)", async () => {
    const msg = (await t.call("POST", msgs, { eventType: "order.shipped", payload: {} })).body;
    await recordAttempts(t.store, epA, { success: false });
    const wakes = t.wakes();
    const res = await t.call("POST", `${msgs}/${msg.id}/endpoints/${epA}/resend`);
    expect(res).toMatchObject({ status: 202, body: { messageId: msg.id, endpointId: epA, status: "pending" } });
    expect(t.wakes()).toBe(wakes + 1);
    const [delivery] = await t.store.listDeliveries(msg.id as MessageId);
    expect(delivery).toMatchObject({ status: "pending" });

    // An endpoint that never had a delivery of this message gets one.
    expect((await t.call("POST", `${msgs}/${msg.id}/endpoints/${epB}/resend`, {})).status).toBe(202);
    expect(await t.store.listDeliveries(msg.id as MessageId)).toHaveLength(2);

    await t.call("POST", `/api/v1/applications/shop/endpoints/${epA}/disable`);
    expect((await t.call("POST", `${msgs}/${msg.id}/endpoints/${epA}/resend`)).body.code).toBe("conflict");
    await t.call("POST", `/api/v1/applications/shop/endpoints/${epA}/enable`);
    expect((await t.call("POST", `${msgs}/${msg.id}/endpoints/ep_01ARZ3NDEKTSV4RRFFQ69G5FAV/resend`)).body.detail).toMatch(/^endpoint/);
  });
});
