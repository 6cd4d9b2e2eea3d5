import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { FastifyInstance } from "fastify";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApi } from "../../src/api/server.js";
import type { Herald } from "../../src/herald.js";
import { PETSTORE_EVENT_TYPES } from "../../src/petstore/events.js";
import { mountPetstore, preparePetstore } from "../../src/petstore/index.js";
import { verifyWebhookDetailed } from "../../src/receiver/index.js";
import { eventually, openTestHerald } from "../helpers/herald.js";
import { type Received, type Receiver, startReceiver } from "../helpers/receiver.js";
import { seedExamples, shapeDiff } from "./shape.js";

/**
 * Seed fidelity, end to end (contract §7): the store is driven over HTTP through
 * every lifecycle; one endpoint per seed, subscribed to that seed's event types,
 * delivers to its own receiver on 127.0.0.1; each delivered payload must have the
 * shape of its seed's example, pass its catalog schema, and be read by the
 * receiver written from that seed alone in docs/petstore.md.
 */

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SEEDS = ["000", "001", "002", "003", "004"] as const;
type Seed = (typeof SEEDS)[number];

// biome-ignore lint/suspicious/noExplicitAny: receivers read payloads as plain JSON
type Json = any;
type Receivers = {
  onSeed000(body: Json): Json;
  onSeed001(body: Json): Json;
  onSeed002(body: Json): Json;
  onSeed003(body: Json): Json;
  onSeed004(headers: Record<string, unknown>, rawBody: string, secret: string): Json;
};

/** The receivers of docs/petstore.md, exactly as written there: every ```js block that defines `onSeed…`. */
function receiversFromDocs(): Receivers {
  const doc = readFileSync(join(import.meta.dirname, "../../docs/petstore.md"), "utf8");
  const blocks = [...doc.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => /function onSeed\d{3}\(/.test(code));
  expect(blocks).toHaveLength(5);
  const code = `${blocks.join("\n")}\nreturn { onSeed000, onSeed001, onSeed002, onSeed003, onSeed004 };`;
  return new Function("require", code)(createRequire(import.meta.url)) as Receivers;
}

const seedOf = new Map(PETSTORE_EVENT_TYPES.map((t) => [t.name, t.seed as Seed]));
const typesOf = (seed: Seed) => PETSTORE_EVENT_TYPES.filter((t) => t.seed === seed).map((t) => t.name);

describe("the Pet Store's events, in the shape of each seed", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let server: FastifyInstance;
  let base: string;
  const receivers = {} as Record<Seed, Receiver>;
  const examples = seedExamples();
  const docs = receiversFromDocs();

  beforeAll(async () => {
    ({ herald, close } = await openTestHerald());
    await herald.start();
    server = await buildApi({ store: herald.store, config: herald.config, publisher: herald.publisher, logger: herald.logger, wake: () => herald.dispatcher?.wake() });
    await mountPetstore(server, herald);
    base = await server.listen({ host: "127.0.0.1", port: 0 });
    for (const seed of SEEDS) {
      receivers[seed] = await startReceiver();
      // FIFO, as in docs/petstore.md's tour: one order's events arrive in the order the store published them.
      await herald.createEndpoint("petstore", { url: `${receivers[seed].url}/seed${seed}`, secret: SECRET, events: typesOf(seed), ordering: "fifo" });
    }
  });
  afterAll(async () => {
    await server.close();
    await close();
    for (const seed of SEEDS) await receivers[seed]?.close();
  });

  async function call(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown) {
    const res = await request(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : null };
  }

  /** The event types each step is expected to publish, in the order the steps ran. */
  const expected: string[] = [];
  async function step(method: "POST" | "PATCH" | "DELETE", path: string, body: unknown, status: number, publishes: string[]) {
    const res = await call(method, `/store/v1${path}`, body);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
    expected.push(...publishes);
    return res.body;
  }

  const PAID = ["payment.succeeded", "payment.success", "order.status_changed", "order.statusChanged", "order.updated"];
  const MOVED = ["order.status_changed", "order.statusChanged", "order.updated"];
  const FULFILMENT = ["order.status_updated", "order.updated"];
  const VISA = { number: "4242424242424242", expMonth: 12, expYear: 2099 };
  const MASTERCARD = { number: "5555555555554444", expMonth: 12, expYear: 2099 };
  const DECLINED = { number: "4000000000009995", expMonth: 12, expYear: 2099 };

  /** Every delivery so far, with its seed (the receiver it reached) and its parsed payload. */
  const deliveries = () =>
    SEEDS.flatMap((seed) => receivers[seed].received.map((r) => ({ seed, request: r, type: String(r.headers["x-webhook-event"]), payload: JSON.parse(r.body) as Json })));

  const ids = {} as Record<string, Json>;

  it("drives pets, customers, products and orders through every lifecycle", async () => {
    // Customers (seed 004) and products (seed 004).
    ids.karim = await step("POST", "/users", { name: "Karim Mansouri", email: "karim@example.com", phone: "+212661234567", city: "Casablanca", address: "123 Bd Mohammed V" }, 201, ["customer.created"]);
    ids.jane = await step("POST", "/users", { name: "Jane Doe", email: "jane@example.com" }, 201, ["customer.created"]);
    await step("PATCH", `/users/${ids.karim.id}`, { city: "Casablanca" }, 200, ["customer.updated"]);
    ids.tablets = await step("POST", "/products", { name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic", price: "17.99", currency: "MAD" }, 201, ["product.created"]);
    ids.leash = await step("POST", "/products", { name: "Leash", sku: "LEASH-1", price: "9.99" }, 201, ["product.created"]);
    await step("PATCH", `/products/${ids.tablets.id}`, { price: "29.99" }, 200, ["product.updated"]);

    // Pets (seed 002): a status change with a reason, one without, an adoption.
    ids.buddy = await step("POST", "/pets", { name: "Buddy", species: "DOG" }, 201, []);
    ids.nala = await step("POST", "/pets", { name: "Nala", species: "CAT" }, 201, []);
    await step("PATCH", `/pets/${ids.buddy.id}`, { status: "PENDING", reason: "Adoption application received" }, 200, ["pet.status_changed"]);
    await step("PATCH", `/pets/${ids.nala.id}`, { status: "NOT_AVAILABLE" }, 200, ["pet.status_changed"]);
    await step("POST", `/pets/${ids.buddy.id}/adopt`, { userId: ids.jane.id }, 200, ["pet.adopted", "pet.status_changed"]);

    // Order 1: products, paid by Visa, shipped, delivered, fulfilled (returned, then delivered), deleted.
    ids.o1 = await step("POST", "/orders", { petId: ids.nala.id, userId: ids.karim.id, totalAmount: "59.98", currency: "MAD", items: [{ productId: ids.tablets.id, quantity: 2 }], deliveryNotes: "Call before delivery" }, 201, ["order.created"]);
    await step("DELETE", `/orders/${ids.o1.id}`, undefined, 409, []);
    await step("POST", `/orders/${ids.o1.id}/payments`, { card: VISA }, 201, PAID);
    await step("POST", `/orders/${ids.o1.id}/ship`, undefined, 200, MOVED);
    for (const status of ["picked_up", "preparing", "prepared", "out_for_delivery", "returned"]) {
      await step("POST", `/orders/${ids.o1.id}/fulfilment`, { status, trackingNumber: "F-CSA6SFJ6EMY" }, 200, FULFILMENT);
    }
    await step("POST", `/orders/${ids.o1.id}/deliver`, undefined, 200, MOVED);
    await step("POST", `/orders/${ids.o1.id}/fulfilment`, { status: "delivered" }, 200, FULFILMENT);
    await step("POST", `/orders/${ids.o1.id}/cancel`, undefined, 409, []);
    await step("DELETE", `/orders/${ids.o1.id}`, undefined, 204, ["order.deleted"]);
    expect((await call("GET", `/store/v1/orders/${ids.o1.id}`)).status).toBe(404);

    // Order 2: a pet alone; declined (9995), then paid by Mastercard; fulfilled to a return into stock; cancelled; deleted.
    ids.o2 = await step("POST", "/orders", { petId: ids.nala.id, userId: ids.jane.id, totalAmount: "125.5", currency: "USD" }, 201, ["order.created"]);
    const declined = await step("POST", `/orders/${ids.o2.id}/payments`, { card: DECLINED }, 402, ["payment.failed"]);
    expect(declined.code).toBe("payment_declined");
    await step("POST", `/orders/${ids.o2.id}/payments`, { card: MASTERCARD }, 201, PAID);
    for (const status of ["picked_up", "preparing", "prepared", "out_for_delivery", "returned", "return_received", "returned_to_stock"]) {
      await step("POST", `/orders/${ids.o2.id}/fulfilment`, { status }, 200, FULFILMENT);
    }
    await step("POST", `/orders/${ids.o2.id}/fulfilment`, { status: "delivered" }, 409, []);
    await step("POST", `/orders/${ids.o2.id}/cancel`, undefined, 200, MOVED);
    await step("DELETE", `/orders/${ids.o2.id}`, undefined, 204, ["order.deleted"]);

    // Order 3: cancelled while placed, then deleted; a second delete finds nothing.
    ids.o3 = await step("POST", "/orders", { petId: ids.nala.id, userId: ids.karim.id, totalAmount: "10.00", currency: "EUR" }, 201, ["order.created"]);
    await step("POST", `/orders/${ids.o3.id}/ship`, undefined, 409, []);
    await step("POST", `/orders/${ids.o3.id}/cancel`, undefined, 200, MOVED);
    await step("DELETE", `/orders/${ids.o3.id}`, undefined, 204, ["order.deleted"]);
    await step("DELETE", `/orders/${ids.o3.id}`, undefined, 404, []);
    // References come from a sequence: a delete does not free one for the next order.
    ids.o4 = await step("POST", "/orders", { petId: ids.nala.id, userId: ids.karim.id, totalAmount: "1.00", currency: "EUR" }, 201, ["order.created"]);
    expect(new Set([ids.o1.reference, ids.o2.reference, ids.o3.reference, ids.o4.reference]).size).toBe(4);

    await step("DELETE", `/products/${ids.leash.id}`, undefined, 204, ["product.deleted"]);
    await step("DELETE", `/users/${ids.jane.id}`, undefined, 204, ["customer.deleted"]);

    // Every event type of every seed is published by this drive, and each reaches its seed's receiver only.
    expect([...new Set(expected)].sort()).toEqual(PETSTORE_EVENT_TYPES.map((t) => t.name).sort());
    const all = await eventually(() => {
      const got = deliveries();
      return got.length >= expected.length ? got : null;
    }, 20_000);
    expect(all.map((d) => d.type).sort()).toEqual([...expected].sort());
    for (const d of all) expect(d.seed, d.type).toBe(seedOf.get(d.type));
  });

  it("delivers each seed's events in the order the store published them (FIFO endpoints)", () => {
    for (const seed of SEEDS) {
      const arrived = receivers[seed].received.map((r) => String(r.headers["x-webhook-event"]));
      expect(arrived, `seed ${seed}`).toEqual(expected.filter((type) => seedOf.get(type) === seed));
    }
  });

  it("delivers every payload in the shape of its seed's example, signed, and valid against its catalog schema", async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const validators = new Map<string, ValidateFunction>();
    for (const t of PETSTORE_EVENT_TYPES) validators.set(t.name, ajv.compile((await herald.store.getEventType(t.name))!.schema!));
    const all = deliveries();
    expect(all.length).toBe(expected.length);
    for (const { seed, type, payload, request } of all) {
      // Seed 004 shows no example body: its events are held to the catalog's example (seed 002's envelope).
      const example = examples.get(type)?.example ?? PETSTORE_EVENT_TYPES.find((t) => t.name === type)!.examples[0];
      expect(seed === "004" || examples.get(type)?.seed === seed, `${type} has an example in seed ${seed}`).toBe(true);
      expect(shapeDiff(example, payload), `${type}: ${request.body}`).toEqual([]);
      const validate = validators.get(type)!;
      expect(validate(payload), `${type}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      verifyWebhookDetailed(request.body, request.headers as Record<string, string>, SECRET, { scheme: "standard" });
      verifyWebhookDetailed(request.body, request.headers as Record<string, string>, SECRET, { scheme: "seed" });
    }
    // Seed 003's amounts are integer minor units; seed 001's and 002's are JSON numbers; seed 000's a decimal string.
    for (const { payload } of all.filter((d) => d.type === "order.status_updated")) {
      expect(Number.isInteger(payload.order.amount)).toBe(true);
      for (const item of payload.items) expect(Number.isInteger(item.price)).toBe(true);
    }
  });

  const one = (seed: Seed, match: (d: { type: string; payload: Json; request: Received }) => boolean) => {
    const found = deliveries().filter((d) => d.seed === seed && match(d));
    expect(found.length, `one delivery to seed ${seed}`).toBeGreaterThan(0);
    return found;
  };

  it("is read by seed 000's receiver: order.statusChanged for every move of an order", () => {
    const moves = one("000", () => true).map((d) => docs.onSeed000(d.payload));
    const o1 = moves.filter((m: Json) => m.orderId === ids.o1.id).map((m: Json) => m.transition);
    expect(o1.sort()).toEqual(["APPROVED → SHIPPED", "PLACED → APPROVED", "SHIPPED → DELIVERED"]);
    const approval = moves.find((m: Json) => m.orderId === ids.o1.id && m.transition === "PLACED → APPROVED");
    expect(approval).toMatchObject({ petId: ids.nala.id, userId: ids.karim.id, status: "APPROVED", total: "59.98 MAD", changedBy: "system" });
    expect(approval.dedupeKey).toMatch(/^evt_/);
    expect(moves.find((m: Json) => m.orderId === ids.o3.id)).toMatchObject({ transition: "PLACED → CANCELLED", changedBy: "api" });
    expect(new Set(moves.map((m: Json) => m.dedupeKey)).size).toBe(moves.length);
  });

  it("is read by seed 001's receiver: payment.success, flat", () => {
    const paid = one("001", () => true).map((d) => docs.onSeed001(d.payload));
    expect(paid).toHaveLength(2);
    expect(paid.find((p: Json) => p.orderId === ids.o1.id).amount).toBe("59.98 MAD");
    expect(paid.find((p: Json) => p.orderId === ids.o2.id).amount).toBe("125.50 USD");
    for (const p of paid) expect(Math.abs(Date.parse(p.paidAt) - Date.now())).toBeLessThan(60_000);
  });

  it("is read by seed 002's receiver: pets, orders and payments in its envelope", () => {
    const read = one("002", () => true).map((d) => docs.onSeed002(d.payload));
    expect(read.every((r: Json) => r !== null)).toBe(true);
    const by = (type: string, f: (r: Json) => boolean = () => true) => read.filter((r: Json) => r.eventType === type && f(r));
    expect(by("pet.adopted")[0]).toMatchObject({ petId: ids.buddy.id, pet: "Buddy (dog)", status: "ADOPTED", adopterId: ids.jane.id, adopter: "Jane Doe <jane@example.com>" });
    expect(by("pet.status_changed").map((r: Json) => `${r.transition}: ${r.reason}`)).toEqual(
      expect.arrayContaining(["AVAILABLE → PENDING: Adoption application received", "AVAILABLE → NOT_AVAILABLE: Changed through the Pet Store API", "PENDING → ADOPTED: Adopted by Jane Doe"]),
    );
    expect(by("order.created", (r) => r.orderId === ids.o1.id)[0]).toMatchObject({ status: "PLACED", lines: [`2 × ${ids.tablets.id} at 29.99`], total: "59.98 MAD", customerId: ids.karim.id, email: "karim@example.com" });
    expect(by("order.created", (r) => r.orderId === ids.o2.id)[0]).toMatchObject({ lines: [`1 × ${ids.nala.id} at 125.50`], total: "125.50 USD" });
    expect(by("order.status_changed", (r) => r.orderId === ids.o2.id).map((r: Json) => r.transition).sort()).toEqual(["APPROVED → CANCELLED", "PLACED → APPROVED"]);
    expect(by("payment.succeeded", (r) => r.orderId === ids.o2.id)[0]).toMatchObject({ status: "SUCCEEDED", amount: "125.50 USD", card: "Mastercard card ending 4444" });
    expect(by("payment.failed")).toEqual([expect.objectContaining({ orderId: ids.o2.id, status: "FAILED", amount: "125.50 USD", error: "INSUFFICIENT_FUNDS: The card has insufficient funds." })]);
  });

  it("is read by seed 003's receiver: order.status_updated along the fulfilment table, flat, in minor units", () => {
    const updates = one("003", () => true).map((d) => docs.onSeed003(d.payload));
    const keys = updates.map((u: Json) => u.dedupeKey);
    expect(new Set(keys).size).toBe(keys.length);
    const o1 = updates.filter((u: Json) => u.dedupeKey.startsWith(`${ids.o1.reference}:`));
    expect(o1.map((u: Json) => u.transition).sort()).toEqual(
      ["pending → picked_up", "picked_up → preparing", "preparing → prepared", "prepared → out_for_delivery", "out_for_delivery → returned", "returned → delivered"].sort(),
    );
    expect(o1.find((u: Json) => u.dedupeKey === `${ids.o1.reference}:delivered`)).toMatchObject({
      amount: "59.98 MAD",
      tracking: "F-CSA6SFJ6EMY",
      notes: "Call before delivery",
      whatsapp: "+212661234567: Hello Karim Mansouri, your Argivit Classic Tablets (MA-ArgivitClassic) is delivered",
      deliverTo: "123 Bd Mohammed V, Casablanca",
      lines: ["2 × Argivit Classic Tablets (MA-ArgivitClassic) at 29.99"],
    });
    // What the store does not know (Jane has no phone; order 2 no tracking number) is an empty string, as the seed's types ask.
    expect(updates.find((u: Json) => u.dedupeKey === `${ids.o2.reference}:returned_to_stock`)).toMatchObject({
      transition: "return_received → returned_to_stock",
      amount: "125.50 USD",
      tracking: "",
      whatsapp: ": Hello Jane Doe, your Nala (" + ids.nala.id + ") is returned to stock",
      lines: [`1 × Nala (${ids.nala.id}) at 125.50`],
    });
  });

  it("is read by seed 004's receiver: order, product and customer events by their headers", () => {
    const read = one("004", () => true).map((d) => docs.onSeed004(d.request.headers as Record<string, unknown>, d.request.body, SECRET));
    for (const r of read) {
      expect(r.dedupeKey).toMatch(/^msg_/);
      expect(r.body.eventType).toBe(r.eventType);
    }
    expect(new Set(read.map((r: Json) => r.dedupeKey)).size).toBe(read.length);
    const updates = read.filter((r: Json) => r.eventType === "order.updated" && r.body.data.order.id === ids.o1.id).map((r: Json) => r.body.data.order);
    expect(updates).toHaveLength(3 + 6); // three moves, six fulfilment steps
    expect(updates.map((o: Json) => `${o.status}/${o.fulfilmentStatus}`)).toEqual(expect.arrayContaining(["APPROVED/pending", "DELIVERED/returned", "DELIVERED/delivered"]));
    const deleted = read.filter((r: Json) => r.eventType === "order.deleted").map((r: Json) => r.body.data.order);
    expect(deleted.map((o: Json) => o.id).sort()).toEqual([ids.o1.id, ids.o2.id, ids.o3.id].sort());
    expect(deleted.find((o: Json) => o.id === ids.o1.id)).toMatchObject({ status: "DELIVERED", fulfilmentStatus: "delivered", reference: ids.o1.reference });
    expect(read.filter((r: Json) => r.eventType.startsWith("product.")).map((r: Json) => r.eventType).sort()).toEqual(["product.created", "product.created", "product.deleted", "product.updated"]);
    expect(read.filter((r: Json) => r.eventType.startsWith("customer.")).map((r: Json) => r.eventType).sort()).toEqual(["customer.created", "customer.created", "customer.deleted", "customer.updated"]);
    // The receiver's own HMAC check rejects a body that is not the one signed.
    expect(() => docs.onSeed004(one("004", () => true)[0]!.request.headers as Record<string, unknown>, "{}", SECRET)).toThrow("bad signature");
  });

  it("carries each seed's example verbatim in the catalog, accepted by its schema, and shows it in /openapi.json", async () => {
    expect(examples.size).toBe(9);
    const ajv = new Ajv2020({ strict: false });
    addFormats.default(ajv);
    const openapi = (await call("GET", "/openapi.json")).body;
    for (const [type, { seed, example }] of examples) {
      const spec = PETSTORE_EVENT_TYPES.find((t) => t.name === type);
      expect(spec?.seed, type).toBe(seed);
      const stored = (await herald.store.getEventType(type))!;
      expect(stored.examples, type).toContainEqual(example);
      const validate = ajv.compile(stored.schema!);
      expect(validate(example), `${type}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      const content = openapi.webhooks[type].post.requestBody.content["application/json"];
      expect(Object.values(content.examples).map((e) => (e as { value: unknown }).value)).toContainEqual(example);
      expect(content.schema).toEqual(stored.schema);
    }
    // Every other store type (seed 004's, which shows no example) has an example its schema accepts.
    for (const t of PETSTORE_EVENT_TYPES) {
      const stored = (await herald.store.getEventType(t.name))!;
      expect(stored.examples.length, t.name).toBeGreaterThan(0);
      const validate = ajv.compile(stored.schema!);
      for (const e of stored.examples) expect(validate(e), `${t.name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      expect(openapi.webhooks[t.name], t.name).toBeDefined();
    }
  });

  it("writes a change and all the events that describe it in one transaction: if the last one fails, none is published", async () => {
    const app = (await herald.application("petstore")).id;
    const newest = async () => (await herald.store.listMessages(app, {}, { limit: 1 })).data[0]?.id;
    const order = await call("POST", "/store/v1/orders", { petId: ids.nala.id, userId: ids.karim.id, totalAmount: "5.00", currency: "USD" });
    const before = await newest();
    // order.updated, the last of the five events a payment publishes, now fails the outbox's catalog check.
    await herald.store.updateEventType("order.updated", { schema: { not: {} }, examples: [] }, Date.now());
    herald.catalog.invalidate("order.updated");
    const paid = await call("POST", `/store/v1/orders/${order.body.id}/payments`, { card: VISA });
    expect(paid.status).toBe(422);
    expect(paid.body.code).toBe("validation_failed");
    expect(await newest()).toBe(before);
    expect((await call("GET", `/store/v1/orders/${order.body.id}`)).body.status).toBe("PLACED");
    expect(herald.sqliteHandle().prepare("SELECT COUNT(*) AS n FROM petstore_payments WHERE order_id = ?").get(order.body.id)).toEqual({ n: 0 });
    await preparePetstore(herald); // restores the store's own entry
    expect((await call("POST", `/store/v1/orders/${order.body.id}/payments`, { card: VISA })).status).toBe(201);
  });

  it("brings a catalog entry written by an earlier version up to date on start (the outbox checks payloads against it)", async () => {
    const spec = PETSTORE_EVENT_TYPES.find((t) => t.name === "payment.succeeded")!;
    const old = { type: "object", properties: { data: { type: "object", properties: { payment: { type: "object", properties: { amount: { type: "string" } } } } } } };
    await herald.store.updateEventType("payment.succeeded", { schema: old, examples: [] }, Date.now());
    await preparePetstore(herald);
    const stored = (await herald.store.getEventType("payment.succeeded"))!;
    expect(stored.schema).toEqual(spec.schema);
    expect(stored.examples).toEqual(spec.examples);
  });
});
