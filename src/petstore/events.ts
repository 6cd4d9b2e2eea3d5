import { uuidv7 } from "./ids.js";
import { ORDER_STATUSES, PET_STATUSES, FULFILMENT_STATUSES } from "./lifecycle.js";

/**
 * The Pet Store's events: the seeds' envelope `{id, eventType, timestamp, data}`
 * and, for the catalog, a JSON Schema and an example of each.
 */
export interface Envelope<D = unknown> {
  id: string;
  eventType: string;
  timestamp: string;
  data: D;
}

export function envelope<D>(eventType: string, data: D, now = new Date()): Envelope<D> {
  return { id: uuidv7(now.getTime()), eventType, timestamp: now.toISOString(), data };
}

type Schema = Record<string, unknown>;
const str: Schema = { type: "string" };
const nullableStr: Schema = { type: ["string", "null"] };
const time: Schema = { type: "string", format: "date-time" };
const money: Schema = { type: "string", pattern: "^[0-9]+\\.[0-9]{2}$" };
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: "object", properties, required });

const pet = obj({ id: str, name: str, species: str, status: { enum: [...PET_STATUSES] } });
const customer = obj({ id: str, name: str, email: str, createdAt: time, updatedAt: time }, ["id", "name", "email"]);
const product = obj({ id: str, name: str, sku: str, price: money, currency: str }, ["id", "name", "sku", "price", "currency"]);
const order = obj(
  { id: str, petId: str, userId: str, status: { enum: [...ORDER_STATUSES] }, totalAmount: money, currency: str, createdAt: time, updatedAt: time },
);
const payment = obj({ id: str, orderId: str, amount: money, currency: str, status: { enum: ["SUCCEEDED", "FAILED"] } });
const fulfilmentStatus: Schema = { enum: FULFILMENT_STATUSES };

const wrap = (eventType: string, data: Schema): Schema => ({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: { id: str, eventType: { const: eventType }, timestamp: time, data },
  required: ["id", "eventType", "timestamp", "data"],
});

const T = "2025-01-06T12:00:00.000Z";
const ORDER_EXAMPLE = {
  id: "019b4139-1234-7abc-8def-123456789abc",
  petId: "019b4132-70aa-764f-b315-e2803d882a24",
  userId: "019b4138-e0af-70b9-8f0c-6ea97d495dfa",
  status: "APPROVED",
  totalAmount: "125.50",
  currency: "USD",
  createdAt: "2024-12-16T09:00:00.000Z",
  updatedAt: "2024-12-16T10:30:00.000Z",
};
const CUSTOMER_EXAMPLE = { id: "019b4137-6d8e-5c2b-e9f4-a3b5c8d7e2f1", name: "John Doe", email: "john@example.com", createdAt: T, updatedAt: T };
const PRODUCT_EXAMPLE = { id: "019b4145-a6c2-b8d3-e7f4-5a9b1c2d3e4f", name: "Chew Toy", sku: "TOY-CHEW-01", price: "29.99", currency: "USD" };

/** Every event type the store publishes, for the catalog. */
export const PETSTORE_EVENT_TYPES: { name: string; description: string; schema: Schema; example: Envelope }[] = [
  {
    name: "pet.adopted",
    description: "A pet was adopted.",
    schema: wrap("pet.adopted", obj({ pet, adopter: obj({ id: str, name: str, email: str }), adoptionDate: { type: "string", format: "date" } })),
    example: {
      id: "019b4132-70aa-764f-b315-e2803d882a24",
      eventType: "pet.adopted",
      timestamp: T,
      data: {
        pet: { id: "019b4131-0000-7000-8000-000000000001", name: "Buddy", species: "DOG", status: "ADOPTED" },
        adopter: { id: CUSTOMER_EXAMPLE.id, name: "John Doe", email: "john@example.com" },
        adoptionDate: "2025-01-06",
      },
    },
  },
  {
    name: "pet.status_changed",
    description: "A pet's availability changed.",
    schema: wrap("pet.status_changed", obj({ petId: str, oldStatus: { enum: [...PET_STATUSES] }, newStatus: { enum: [...PET_STATUSES] }, reason: nullableStr }, ["petId", "oldStatus", "newStatus"])),
    example: { id: "019b4127-54d5-76d9-b626-0d4c7bfce5b6", eventType: "pet.status_changed", timestamp: T, data: { petId: "019b4131-0000-7000-8000-000000000001", oldStatus: "AVAILABLE", newStatus: "PENDING", reason: "Adoption application received" } },
  },
  ...(["created", "updated", "deleted"] as const).map((what) => ({
    name: `customer.${what}`,
    description: `A customer (a Pet Store user) was ${what}.`,
    schema: wrap(`customer.${what}`, obj({ customer })),
    example: { id: uuidv7(Date.parse(T)), eventType: `customer.${what}`, timestamp: T, data: { customer: CUSTOMER_EXAMPLE } },
  })),
  ...(["created", "updated", "deleted"] as const).map((what) => ({
    name: `product.${what}`,
    description: `A product was ${what}.`,
    schema: wrap(`product.${what}`, obj({ product })),
    example: { id: uuidv7(Date.parse(T)), eventType: `product.${what}`, timestamp: T, data: { product: PRODUCT_EXAMPLE } },
  })),
  {
    name: "order.created",
    description: "An order was placed.",
    schema: wrap("order.created", obj({ order, customer: obj({ id: str, name: str, email: str }) })),
    example: { id: "019b4135-89c2-724a-a825-c1d8a0e9f4c3", eventType: "order.created", timestamp: T, data: { order: { ...ORDER_EXAMPLE, status: "PLACED" }, customer: { id: CUSTOMER_EXAMPLE.id, name: "John Doe", email: "john@example.com" } } },
  },
  {
    name: "order.status_changed",
    description: "An order moved along its lifecycle: PLACED → APPROVED (payment confirmed) → SHIPPED → DELIVERED, or to CANCELLED.",
    schema: wrap("order.status_changed", obj({ order, previousStatus: { enum: [...ORDER_STATUSES] }, newStatus: { enum: [...ORDER_STATUSES] }, changedAt: time, changedBy: str })),
    example: { id: "019b4138-3d5f-8b1c-d9e7-f0a2b4c8e6d1", eventType: "order.status_changed", timestamp: "2024-12-16T10:30:00.000Z", data: { order: ORDER_EXAMPLE, previousStatus: "PLACED", newStatus: "APPROVED", changedAt: "2024-12-16T10:30:00.000Z", changedBy: "system" } },
  },
  {
    name: "order.status_updated",
    description: "The fulfilment provider moved an order's shipping status (seed 003's table).",
    schema: wrap(
      "order.status_updated",
      obj({
        order: obj({ reference: str, old_status: fulfilmentStatus, new_status: fulfilmentStatus, amount: { type: "integer" }, currency: str, tracking_number: nullableStr, delivery_notes: nullableStr, created_at: time }),
        customer: obj({ name: str, phone: nullableStr, city: nullableStr, address: nullableStr }),
        product: obj({ name: str, sku: str }),
        items: { type: "array", items: obj({ product_name: str, sku: str, quantity: { type: "integer" }, price: { type: "integer" } }) },
      }),
    ),
    example: {
      id: uuidv7(Date.parse(T)),
      eventType: "order.status_updated",
      timestamp: "2026-05-09T10:00:00.000Z",
      data: {
        order: { reference: "ORD-000129", old_status: "out_for_delivery", new_status: "delivered", amount: 1799, currency: "MAD", tracking_number: "F-CSA6SFJ6EMY", delivery_notes: "Call before delivery", created_at: "2026-05-08T11:25:44.000Z" },
        customer: { name: "Karim Mansouri", phone: "+212661234567", city: "Casablanca", address: "123 Bd Mohammed V" },
        product: { name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic" },
        items: [{ product_name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic", quantity: 1, price: 1799 }],
      },
    },
  },
  {
    name: "payment.succeeded",
    description: "A card payment for an order succeeded.",
    schema: wrap("payment.succeeded", obj({ payment, paymentMethod: obj({ type: { const: "CARD" }, last4: str, brand: str }) })),
    example: { id: "019b4139-a7e4-6c3f-b2a1-e9f8d5c7b4a9", eventType: "payment.succeeded", timestamp: T, data: { payment: { id: "019b4142-c4d6-78a9-b2e3-7d1c5f9a8e4b", orderId: ORDER_EXAMPLE.id, amount: "150.00", currency: "USD", status: "SUCCEEDED" }, paymentMethod: { type: "CARD", last4: "4242", brand: "Visa" } } },
  },
  {
    name: "payment.failed",
    description: "A card payment for an order was declined; the order is unchanged.",
    schema: wrap("payment.failed", obj({ payment, error: obj({ code: str, message: str }) })),
    example: { id: "019b4140-b2c8-9d4e-a3f6-c8e7b5d9a2f1", eventType: "payment.failed", timestamp: T, data: { payment: { id: "019b4143-d8e4-77f2-c5b9-6e4a8d3c7f1b", orderId: ORDER_EXAMPLE.id, amount: "75.00", currency: "USD", status: "FAILED" }, error: { code: "INSUFFICIENT_FUNDS", message: "The card has insufficient funds." } } },
  },
];
