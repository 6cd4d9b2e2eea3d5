import { FULFILMENT_STATUSES, ORDER_STATUSES } from "../lifecycle.js";
import type { Order, Product, User } from "../repo.js";
import { arrayOf, decimal, type EventTypeSpec, int, obj, payload, type Schema, type StoreEvent, str, time } from "./schema.js";
import { envelopeEvent } from "./seed002.js";

/**
 * Seed 004 (an e-commerce API's webhooks): `order.created|updated|deleted`,
 * `product.…` and `customer.…`. The seed names the events and their headers
 * (event type, HMAC-SHA256 signature, a unique event id: Herald's
 * `x-webhook-event`, `x-webhook-signature`, `x-webhook-id`) but shows no body,
 * so these follow the store's default envelope (seed 002's) around the
 * resource: `{id, eventType, timestamp, data: {order|product|customer}}`.
 * `order.created` is seed 002's (it has an example).
 */

const T = "2025-01-06T12:00:00Z";

const ORDER = {
  id: "019b4139-1234-7abc-8def-123456789abc",
  reference: "ORD-000129",
  petId: "019b4132-70aa-764f-b315-e2803d882a24",
  userId: "019b4138-e0af-70b9-8f0c-6ea97d495dfa",
  status: "SHIPPED",
  fulfilmentStatus: "out_for_delivery",
  totalAmount: "125.50",
  currency: "USD",
  items: [{ productId: "019b4145-a6c2-78d3-a7f4-5a9b1c2d3e4f", quantity: 2 }],
  createdAt: "2024-12-16T09:00:00Z",
  updatedAt: "2024-12-16T10:30:00Z",
};
const PRODUCT = { id: "019b4145-a6c2-78d3-a7f4-5a9b1c2d3e4f", name: "Chew Toy", sku: "TOY-CHEW-01", price: "29.99", currency: "USD", createdAt: T, updatedAt: T };
const CUSTOMER = { id: "019b4137-6d8e-7c2b-a9f4-a3b5c8d7e2f1", name: "John Doe", email: "john@example.com", createdAt: T, updatedAt: T };

const orderSchema = obj({
  id: str,
  reference: str,
  petId: str,
  userId: str,
  status: { enum: [...ORDER_STATUSES] },
  fulfilmentStatus: { enum: FULFILMENT_STATUSES },
  totalAmount: decimal,
  currency: str,
  items: arrayOf(obj({ productId: str, quantity: int })),
  createdAt: time,
  updatedAt: time,
});
const productSchema = obj({ id: str, name: str, sku: str, price: decimal, currency: str, createdAt: time, updatedAt: time });
const customerSchema = obj({ id: str, name: str, email: str, createdAt: time, updatedAt: time });

function spec(resource: "order" | "product" | "customer", what: "created" | "updated" | "deleted", description: string, schema: Schema, example: object): EventTypeSpec {
  const name = `${resource}.${what}`;
  return {
    name,
    seed: "004",
    description,
    schema: payload({ id: str, eventType: { const: name }, timestamp: time, data: obj({ [resource]: schema }) }),
    examples: [{ id: "019b4150-0000-7000-8000-000000000004", eventType: name, timestamp: T, data: { [resource]: example } }],
  };
}

export const SEED_004_TYPES: EventTypeSpec[] = [
  spec("order", "updated", "An order changed: its status (payment, shipping, delivery, cancellation) or its fulfilment status. `data.order` is the order after the change.", orderSchema, ORDER),
  spec("order", "deleted", "A cancelled or delivered order was deleted. `data.order` is the order as it was.", orderSchema, { ...ORDER, status: "DELIVERED", fulfilmentStatus: "delivered" }),
  ...(["created", "updated", "deleted"] as const).map((what) => spec("product", what, `A product was ${what}.`, productSchema, PRODUCT)),
  ...(["created", "updated", "deleted"] as const).map((what) => spec("customer", what, `A customer (a Pet Store user) was ${what}.`, customerSchema, CUSTOMER)),
];

const orderData = (o: Order) => ({
  id: o.id,
  reference: o.reference,
  petId: o.petId,
  userId: o.userId,
  status: o.status,
  fulfilmentStatus: o.fulfilmentStatus,
  totalAmount: o.totalAmount,
  currency: o.currency,
  items: o.items.map((i) => ({ productId: i.productId, quantity: i.quantity })),
  createdAt: o.createdAt,
  updatedAt: o.updatedAt,
});
const productData = (p: Product) => ({ id: p.id, name: p.name, sku: p.sku, price: p.price, currency: p.currency, createdAt: p.createdAt, updatedAt: p.updatedAt });
const customerData = (u: User) => ({ id: u.id, name: u.name, email: u.email, createdAt: u.createdAt, updatedAt: u.updatedAt });

export const orderUpdated = (order: Order, now: Date): StoreEvent => envelopeEvent("order.updated", { order: orderData(order) }, now);
export const orderDeleted = (order: Order, now: Date): StoreEvent => envelopeEvent("order.deleted", { order: orderData(order) }, now);
export const productEvent = (what: "created" | "updated" | "deleted", product: Product, now: Date): StoreEvent =>
  envelopeEvent(`product.${what}`, { product: productData(product) }, now);
export const customerEvent = (what: "created" | "updated" | "deleted", user: User, now: Date): StoreEvent =>
  envelopeEvent(`customer.${what}`, { customer: customerData(user) }, now);
