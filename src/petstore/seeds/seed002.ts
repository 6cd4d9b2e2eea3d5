import { uuidv7 } from "../ids.js";
import { PET_STATUSES } from "../lifecycle.js";
import type { OrderLine } from "../order-lines.js";
import type { Order, Payment, Pet, User } from "../repo.js";
import { arrayOf, date, type EventTypeSpec, num, obj, payload, type Schema, type StoreEvent, str, time } from "./schema.js";

/**
 * Seed 002 (the Modern Petstore API's webhooks guide): the envelope
 * `{id, eventType, timestamp, data}`, which is also the default for the store's
 * own events, and six event types. Money is a JSON number here (`"total": 59.98`).
 */

const T = "2025-01-06T12:00:00Z";

/** The seed's examples, verbatim. */
export const SEED_002_EXAMPLES = {
  "pet.adopted": {
    id: "019b4132-70aa-764f-b315-e2803d882a24",
    eventType: "pet.adopted",
    timestamp: T,
    data: {
      pet: { id: "pet_fYrZzCW9E1WIOyGw", name: "Buddy", species: "DOG", status: "ADOPTED" },
      adopter: { id: "019b4137-6d8e-5c2b-e9f4-a3b5c8d7e2f1", name: "John Doe", email: "john@example.com" },
      adoptionDate: "2025-01-06",
    },
  },
  "pet.status_changed": {
    id: "019b4127-54d5-76d9-b626-0d4c7bfce5b6",
    eventType: "pet.status_changed",
    timestamp: T,
    data: { petId: "pet_fYrZzCW9E1WIOyGw", oldStatus: "AVAILABLE", newStatus: "PENDING", reason: "Adoption application received" },
  },
  "order.created": {
    id: "019b4135-89c2-724a-a825-c1d8a0e9f4c3",
    eventType: "order.created",
    timestamp: T,
    data: {
      order: {
        id: "019b4141-e5f3-a1b7-c4d8-9f6e2a5b8c1d",
        status: "PENDING",
        items: [{ productId: "019b4145-a6c2-b8d3-e7f4-5a9b1c2d3e4f", quantity: 2, price: 29.99 }],
        total: 59.98,
        currency: "USD",
      },
      customer: { id: "019b4137-6d8e-5c2b-e9f4-a3b5c8d7e2f1", email: "customer@example.com" },
    },
  },
  "order.status_changed": {
    id: "019b4138-3d5f-8b1c-d9e7-f0a2b4c8e6d1",
    eventType: "order.status_changed",
    timestamp: T,
    data: { orderId: "order_abc123", oldStatus: "PENDING", newStatus: "PROCESSING", timestamp: T },
  },
  "payment.succeeded": {
    id: "019b4139-a7e4-6c3f-b2a1-e9f8d5c7b4a9",
    eventType: "payment.succeeded",
    timestamp: T,
    data: {
      payment: { id: "019b4142-c4d6-f8a9-b2e3-7d1c5f9a8e4b", orderId: "order_abc123", amount: 150.0, currency: "USD", status: "SUCCEEDED" },
      paymentMethod: { type: "CARD", last4: "4242", brand: "Visa" },
    },
  },
  "payment.failed": {
    id: "019b4140-b2c8-9d4e-a3f6-c8e7b5d9a2f1",
    eventType: "payment.failed",
    timestamp: T,
    data: {
      payment: { id: "019b4143-d8e4-a7f2-c5b9-6e4a8d3c7f1b", orderId: "order_def456", amount: 75.0, currency: "USD", status: "FAILED" },
      error: { code: "INSUFFICIENT_FUNDS", message: "The card has insufficient funds." },
    },
  },
};

type Seed002Type = keyof typeof SEED_002_EXAMPLES;

/** The envelope's schema around `data`. */
const envelopeSchema = (eventType: string, data: Schema): Schema => payload({ id: str, eventType: { const: eventType }, timestamp: time, data });

const petStatus = { enum: [...PET_STATUSES] };
const payment = obj({ id: str, orderId: str, amount: num, currency: str, status: { enum: ["SUCCEEDED", "FAILED"] } });

const spec = (name: Seed002Type, description: string, data: Schema): EventTypeSpec => ({
  name,
  seed: "002",
  description,
  schema: envelopeSchema(name, data),
  examples: [SEED_002_EXAMPLES[name]],
});

export const SEED_002_TYPES: EventTypeSpec[] = [
  spec("pet.adopted", "A pet was adopted.", obj({ pet: obj({ id: str, name: str, species: str, status: petStatus }), adopter: obj({ id: str, name: str, email: str }), adoptionDate: date })),
  spec("pet.status_changed", "A pet's availability changed.", obj({ petId: str, oldStatus: petStatus, newStatus: petStatus, reason: str })),
  spec(
    "order.created",
    "An order was placed (seed 002's shape: `items` with unit prices and `total` as JSON numbers; an order of a pet alone lists the pet as its one line).",
    obj({ order: obj({ id: str, status: str, items: arrayOf(obj({ productId: str, quantity: { type: "integer" }, price: num })), total: num, currency: str }), customer: obj({ id: str, email: str }) }),
  ),
  spec("order.status_changed", "An order's status changed (seed 002's shape: `orderId`, `oldStatus`, `newStatus`).", obj({ orderId: str, oldStatus: str, newStatus: str, timestamp: time })),
  spec("payment.succeeded", "A card payment for an order succeeded.", obj({ payment, paymentMethod: obj({ type: { const: "CARD" }, last4: str, brand: str }) })),
  spec("payment.failed", "A card payment for an order was declined; the order is unchanged.", obj({ payment, error: obj({ code: str, message: str }) })),
];

/** An event in seed 002's envelope (the default for the store's own events, seed 004's too). */
export function envelopeEvent(eventType: string, data: Record<string, unknown>, now: Date): StoreEvent {
  return { type: eventType, payload: { id: uuidv7(now.getTime()), eventType, timestamp: now.toISOString(), data } };
}
const event = envelopeEvent;

export const petAdopted = (pet: Pet, adopter: User, now: Date): StoreEvent =>
  event(
    "pet.adopted",
    { pet: { id: pet.id, name: pet.name, species: pet.species, status: pet.status }, adopter: { id: adopter.id, name: adopter.name, email: adopter.email }, adoptionDate: now.toISOString().slice(0, 10) },
    now,
  );

export const petStatusChanged = (petId: string, oldStatus: string, newStatus: string, reason: string, now: Date): StoreEvent =>
  event("pet.status_changed", { petId, oldStatus, newStatus, reason }, now);

export const orderCreated = (order: Order, lines: OrderLine[], customer: User, now: Date): StoreEvent =>
  event(
    "order.created",
    {
      order: {
        id: order.id,
        reference: order.reference,
        petId: order.petId,
        userId: order.userId,
        status: order.status,
        items: lines.map((l) => ({ productId: l.productId, quantity: l.quantity, price: Number(l.unitPrice) })),
        total: Number(order.totalAmount),
        currency: order.currency,
        createdAt: order.createdAt,
      },
      customer: { id: customer.id, name: customer.name, email: customer.email },
    },
    now,
  );

export const orderStatusChanged = (before: Order, after: Order, now: Date): StoreEvent =>
  event("order.status_changed", { orderId: after.id, oldStatus: before.status, newStatus: after.status, timestamp: now.toISOString() }, now);

const paymentData = (p: Payment) => ({ id: p.id, orderId: p.orderId, amount: Number(p.amount), currency: p.currency, status: p.status });

export const paymentSucceeded = (p: Payment, now: Date): StoreEvent =>
  event("payment.succeeded", { payment: paymentData(p), paymentMethod: { type: "CARD", last4: p.cardLast4, brand: p.cardBrand } }, now);

export const paymentFailed = (p: Payment, now: Date): StoreEvent =>
  event("payment.failed", { payment: paymentData(p), error: { code: "INSUFFICIENT_FUNDS", message: "The card has insufficient funds." } }, now);
