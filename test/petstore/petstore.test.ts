import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { FastifyInstance } from "fastify";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApi } from "../../src/api/server.js";
import type { Herald } from "../../src/herald.js";
import { PETSTORE_EVENT_TYPES } from "../../src/petstore/events.js";
import { mountPetstore } from "../../src/petstore/index.js";
import { verifyWebhookDetailed } from "../../src/receiver/index.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { eventually, openTestHerald } from "../helpers/herald.js";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

describe("the Pet Store reference producer", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;
  let server: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    ({ herald, close } = await openTestHerald());
    await herald.start();
    receiver = await startReceiver();
    server = await buildApi({ store: herald.store, config: herald.config, publisher: herald.publisher, logger: herald.logger, wake: () => herald.dispatcher?.wake() });
    await mountPetstore(server, herald);
    base = await server.listen({ host: "127.0.0.1", port: 0 });
    await herald.createEndpoint("petstore", { url: `${receiver.url}/webhooks/petstore`, secret: SECRET });
  });
  afterAll(async () => {
    await server.close();
    await close();
    await receiver.close();
  });

  async function call(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown) {
    const res = await request(`${base}/store/v1${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : null };
  }

  /**
   * Every webhook received so far, verified with the receiver SDK (both schemes): its type (the
   * `x-webhook-event` header), its payload, and `data` for the events in seed 002's envelope.
   */
  function events() {
    return receiver.received.map((r) => {
      const std = verifyWebhookDetailed<Record<string, unknown>>(r.body, r.headers as Record<string, string>, SECRET, { scheme: "standard" });
      verifyWebhookDetailed(r.body, r.headers as Record<string, string>, SECRET, { scheme: "seed" });
      const eventType = String(r.headers["x-webhook-event"]);
      const payload = std.payload;
      if (payload.eventType !== undefined) expect(payload.eventType).toBe(eventType);
      return { eventType, payload, data: payload.data as Record<string, unknown> };
    });
  }
  const waitForEvents = (n: number) => eventually(() => (receiver.received.length >= n ? events() : null));
  const types = (list: { eventType: string }[]) => list.map((e) => e.eventType).sort();
  const ofType = <T extends { eventType: string }>(list: T[], type: string) => list.filter((e) => e.eventType === type);

  it("registers its event types with JSON Schemas whose examples validate", async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    for (const t of PETSTORE_EVENT_TYPES) {
      const stored = await herald.store.getEventType(t.name);
      expect(stored, t.name).not.toBeNull();
      const validate = ajv.compile(stored!.schema!);
      for (const example of stored!.examples) expect(validate(example), `${t.name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
  });

  it("drives an order through its lifecycle, publishing each change, verified on arrival", async () => {
    const start = receiver.received.length;
    const user = await call("POST", "/users", { name: "John Doe", email: "john@example.com", phone: "+212661234567", city: "Casablanca", address: "123 Bd Mohammed V" });
    expect(user.status).toBe(201);
    const pet = await call("POST", "/pets", { name: "Buddy", species: "DOG" });
    expect(pet.body).toMatchObject({ name: "Buddy", species: "DOG", status: "AVAILABLE" });
    const order = await call("POST", "/orders", { petId: pet.body.id, userId: user.body.id, totalAmount: "125.5", currency: "USD" });
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ status: "PLACED", totalAmount: "125.50" });
    const id = order.body.id;

    const paid = await call("POST", `/orders/${id}/payments`, { card: { number: "4242424242424242", expMonth: 12, expYear: 2099 } });
    expect(paid.status).toBe(201);
    expect(paid.body.order.status).toBe("APPROVED");
    expect((await call("POST", `/orders/${id}/ship`)).body.status).toBe("SHIPPED");
    expect((await call("POST", `/orders/${id}/deliver`)).body.status).toBe("DELIVERED");

    const moves = ["order.status_changed", "order.statusChanged", "order.updated"];
    const want = ["customer.created", "order.created", "payment.succeeded", "payment.success", ...moves, ...moves, ...moves];
    const got = (await waitForEvents(start + want.length)).slice(start);
    expect(types(got)).toEqual(want.sort());
    for (const e of got.filter((e) => "id" in e.payload)) {
      expect(e.payload.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(Number.isNaN(Date.parse(String(e.payload.timestamp)))).toBe(false);
    }
    expect(ofType(got, "order.created")[0]!.data).toMatchObject({
      order: { id, status: "PLACED", items: [{ productId: pet.body.id, quantity: 1, price: 125.5 }], total: 125.5, currency: "USD" },
      customer: { id: user.body.id, email: "john@example.com" },
    });
    expect(ofType(got, "payment.succeeded")[0]!.data).toMatchObject({ payment: { orderId: id, amount: 125.5, currency: "USD", status: "SUCCEEDED" }, paymentMethod: { type: "CARD", last4: "4242", brand: "Visa" } });
    expect(ofType(got, "payment.success")[0]!.payload).toMatchObject({ event: "payment.success", orderId: id, amount: 125.5, currency: "USD", timestamp: expect.stringMatching(/^[0-9]+$/) });
    expect(ofType(got, "order.status_changed").map((e) => `${e.data.oldStatus} → ${e.data.newStatus}`).sort()).toEqual(["APPROVED → SHIPPED", "PLACED → APPROVED", "SHIPPED → DELIVERED"]);
    for (const e of ofType(got, "order.status_changed")) expect(e.data.orderId).toBe(id);
    const approval = ofType(got, "order.statusChanged").find((e) => e.data.newStatus === "APPROVED")!;
    expect(approval.payload.eventId).toMatch(/^evt_/);
    expect(approval.data).toMatchObject({ order: { id, status: "APPROVED", totalAmount: "125.50" }, previousStatus: "PLACED", newStatus: "APPROVED", changedBy: "system" });
    expect(ofType(got, "order.statusChanged").find((e) => e.data.newStatus === "DELIVERED")!.data).toMatchObject({ previousStatus: "SHIPPED", changedBy: "api", changedAt: expect.any(String) });
    expect(ofType(got, "order.updated").map((e) => (e.data.order as { status: string }).status).sort()).toEqual(["APPROVED", "DELIVERED", "SHIPPED"]);
  });

  it("refuses illegal transitions with 409 invalid_transition and publishes nothing", async () => {
    const user = await call("POST", "/users", { name: "Ann", email: "ann@example.com" });
    const pet = await call("POST", "/pets", { name: "Rex", species: "DOG" });
    const order = await call("POST", "/orders", { petId: pet.body.id, userId: user.body.id, totalAmount: "10.00", currency: "EUR" });
    await waitForEvents(receiver.received.length);
    const messagesBefore = (await herald.store.listMessages((await herald.application("petstore")).id, {}, { limit: 250 })).data.length;

    const unpaidShip = await call("POST", `/orders/${order.body.id}/ship`);
    expect(unpaidShip.status).toBe(409);
    expect(unpaidShip.body.code).toBe("invalid_transition");
    expect((await call("POST", `/orders/${order.body.id}/fulfilment`, { status: "picked_up" })).body.code).toBe("invalid_transition");
    expect((await call("POST", `/orders/${order.body.id}/cancel`)).body.status).toBe("CANCELLED");
    for (const action of ["ship", "deliver", "cancel"]) {
      const r = await call("POST", `/orders/${order.body.id}/${action}`);
      expect(r.status, action).toBe(409);
      expect(r.body.code).toBe("invalid_transition");
    }
    expect((await call("POST", `/orders/${order.body.id}/payments`, { card: { number: "4242424242424242", expMonth: 1, expYear: 2099 } })).status).toBe(409);
    expect((await call("GET", `/orders/${order.body.id}`)).body.status).toBe("CANCELLED");
    const messagesAfter = (await herald.store.listMessages((await herald.application("petstore")).id, {}, { limit: 250 })).data.length;
    expect(messagesAfter).toBe(messagesBefore + 3); // only the cancellation: order.status_changed, order.statusChanged, order.updated
  });

  it("declines a card ending 9995: payment.failed with INSUFFICIENT_FUNDS, order unchanged", async () => {
    const user = await call("POST", "/users", { name: "Bob", email: "bob@example.com" });
    const pet = await call("POST", "/pets", { name: "Tom", species: "CAT" });
    const order = await call("POST", "/orders", { petId: pet.body.id, userId: user.body.id, totalAmount: "75.00", currency: "USD" });
    const start = receiver.received.length;
    await waitForEvents(start);
    const declined = await call("POST", `/orders/${order.body.id}/payments`, { card: { number: "4000000000009995", expMonth: 12, expYear: 2099 } });
    expect(declined.status).toBe(402);
    expect(declined.body.code).toBe("payment_declined");
    expect((await call("GET", `/orders/${order.body.id}`)).body.status).toBe("PLACED");
    const failed = await eventually(() => events().find((e) => e.eventType === "payment.failed" && (e.data as { payment: { orderId: string } }).payment.orderId === order.body.id));
    expect(failed.data).toMatchObject({ payment: { amount: 75, status: "FAILED" }, error: { code: "INSUFFICIENT_FUNDS" } });
    expect(events().filter((e) => e.eventType === "payment.success" && e.payload.orderId === order.body.id)).toEqual([]);
  });

  it("follows the fulfilment table of seed 003, with its payload", async () => {
    const user = await call("POST", "/users", { name: "Karim Mansouri", email: "karim@example.com", phone: "+212661234567", city: "Casablanca", address: "123 Bd Mohammed V" });
    const product = await call("POST", "/products", { name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic", price: "17.99", currency: "MAD" });
    const pet = await call("POST", "/pets", { name: "Nala", species: "CAT" });
    const order = await call("POST", "/orders", { petId: pet.body.id, userId: user.body.id, totalAmount: "17.99", currency: "MAD", items: [{ productId: product.body.id, quantity: 1 }], deliveryNotes: "Call before delivery" });
    await call("POST", `/orders/${order.body.id}/payments`, { card: { number: "5555555555554444", expMonth: 12, expYear: 2099 } });
    const path = ["picked_up", "preparing", "prepared", "out_for_delivery", "returned", "return_received", "returned_to_stock"];
    for (const status of path) {
      const r = await call("POST", `/orders/${order.body.id}/fulfilment`, { status, trackingNumber: "F-CSA6SFJ6EMY" });
      expect(r.status, status).toBe(200);
      expect(r.body.fulfilmentStatus).toBe(status);
    }
    const skip = await call("POST", `/orders/${order.body.id}/fulfilment`, { status: "delivered" });
    expect(skip.status).toBe(409);
    expect(skip.body.code).toBe("invalid_transition");
    const updates = await eventually(() => {
      const list = events()
        .filter((e) => e.eventType === "order.status_updated" && (e.payload as { order: { reference: string } }).order.reference === order.body.reference)
        .map((e) => e.payload as { order: { old_status: string; new_status: string } });
      return list.length === path.length ? list : null;
    });
    // Seed 003's payload is flat: no envelope.
    const byNewStatus = new Map(updates.map((u) => [u.order.new_status, u]));
    expect(path.map((status) => byNewStatus.get(status)?.order.old_status)).toEqual(["pending", ...path.slice(0, -1)]);
    expect(byNewStatus.get("out_for_delivery")).toEqual({
      event: "order.status_updated",
      timestamp: expect.any(String),
      order: {
        reference: order.body.reference,
        old_status: "prepared",
        new_status: "out_for_delivery",
        amount: 1799,
        currency: "MAD",
        tracking_number: "F-CSA6SFJ6EMY",
        delivery_notes: "Call before delivery",
        created_at: order.body.createdAt,
      },
      customer: { name: "Karim Mansouri", phone: "+212661234567", city: "Casablanca", address: "123 Bd Mohammed V" },
      product: { name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic" },
      items: [{ product_name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic", quantity: 1, price: 1799 }],
    });
  });

  it("publishes pet adoption, customer and product changes", async () => {
    const start = receiver.received.length;
    const user = await call("POST", "/users", { name: "Jane", email: "jane@example.com" });
    const pet = await call("POST", "/pets", { name: "Luna", species: "DOG" });
    expect((await call("PATCH", `/pets/${pet.body.id}`, { status: "PENDING", reason: "Adoption application received" })).body.status).toBe("PENDING");
    const adopted = await call("POST", `/pets/${pet.body.id}/adopt`, { userId: user.body.id });
    expect(adopted.body.status).toBe("ADOPTED");
    expect((await call("POST", `/pets/${pet.body.id}/adopt`, { userId: user.body.id })).body.code).toBe("invalid_transition");
    await call("PATCH", `/users/${user.body.id}`, { city: "Rabat" });
    const product = await call("POST", "/products", { name: "Leash", sku: "LEASH-1", price: "9.99" });
    await call("PATCH", `/products/${product.body.id}`, { price: "8.99" });
    expect((await call("DELETE", `/products/${product.body.id}`)).status).toBe(204);
    expect((await call("DELETE", `/users/${user.body.id}`)).status).toBe(204);
    const got = (await waitForEvents(start + 9)).slice(start);
    expect(types(got)).toEqual(
      ["customer.created", "pet.status_changed", "pet.adopted", "pet.status_changed", "customer.updated", "product.created", "product.updated", "product.deleted", "customer.deleted"].sort(),
    );
    expect(ofType(got, "pet.status_changed").map((e) => e.data)).toContainEqual({ petId: pet.body.id, oldStatus: "AVAILABLE", newStatus: "PENDING", reason: "Adoption application received" });
    expect(ofType(got, "pet.adopted")[0]!.data).toMatchObject({ pet: { id: pet.body.id, name: "Luna", species: "DOG", status: "ADOPTED" }, adopter: { id: user.body.id, name: "Jane", email: "jane@example.com" } });
    expect(ofType(got, "product.updated")[0]!.data).toMatchObject({ product: { sku: "LEASH-1", price: "8.99", currency: "USD" } });
    expect(ofType(got, "customer.deleted")[0]!.data).toMatchObject({ customer: { id: user.body.id, name: "Jane" } });
  });

  it("rejects bad input with problem+json, never a 500", async () => {
    const cases: [string, string, unknown, number, string][] = [
      ["POST", "/orders", { petId: "x", userId: "y", totalAmount: 125.5, currency: "USD" }, 422, "validation_failed"],
      ["POST", "/orders", { petId: "x", userId: "y", totalAmount: "1.00", currency: "USD" }, 422, "validation_failed"],
      ["POST", "/pets", { name: "A", species: "DOG", extra: 1 }, 422, "validation_failed"],
      ["PATCH", "/pets/nope", { status: "GONE" }, 422, "validation_failed"],
      ["GET", "/pets/nope", undefined, 404, "not_found"],
      ["POST", "/users", { name: "X", email: "not-an-email" }, 422, "validation_failed"],
      ["POST", "/products", { name: "X", sku: "S", price: "1.999" }, 422, "validation_failed"],
    ];
    for (const [method, path, body, status, code] of cases) {
      const r = await call(method as "POST", path, body);
      expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(status);
      expect(r.body.code).toBe(code);
    }
  });
});
