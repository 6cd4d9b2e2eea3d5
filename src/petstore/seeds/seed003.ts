import { FULFILMENT_STATUSES } from "../lifecycle.js";
import { toMinorUnits } from "../money.js";
import type { OrderLine } from "../order-lines.js";
import type { Order, User } from "../repo.js";
import { arrayOf, type EventTypeSpec, int, obj, payload, type StoreEvent, str, time } from "./schema.js";

/**
 * Seed 003 (a fulfilment provider's outgoing webhooks): `order.status_updated`,
 * FLAT (no envelope): `{event, timestamp, order: {reference, old_status,
 * new_status, amount, …}, customer, product, items}`, money in integer minor
 * units. Fields the store has no value for are empty strings, never null: the
 * seed's receivers read them as strings.
 */

/** The seed's example, verbatim. */
export const ORDER_STATUS_UPDATED_EXAMPLE = {
  event: "order.status_updated",
  timestamp: "2026-05-09T12:00:00+02:00",
  order: {
    reference: "ORD-000129",
    old_status: "out_for_delivery",
    new_status: "delivered",
    amount: 1799,
    currency: "MAD",
    tracking_number: "F-CSA6SFJ6EMY",
    delivery_notes: "Call before delivery",
    created_at: "2026-05-08T12:25:44+01:00",
  },
  customer: { name: "Karim Mansouri", phone: "+212661234567", city: "Casablanca", address: "123 Bd Mohammed V" },
  product: { name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic" },
  items: [{ product_name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic", quantity: 1, price: 1799 }],
};

const status = { enum: FULFILMENT_STATUSES };

export const SEED_003_TYPES: EventTypeSpec[] = [
  {
    name: "order.status_updated",
    seed: "003",
    description:
      "The fulfilment provider moved an order's shipping status, along seed 003's table (its flat shape; amounts in integer minor units). `order.reference` + `order.new_status` is a unique key.",
    schema: payload({
      event: { const: "order.status_updated" },
      timestamp: time,
      order: obj({ reference: str, old_status: status, new_status: status, amount: int, currency: str, tracking_number: str, delivery_notes: str, created_at: time }),
      customer: obj({ name: str, phone: str, city: str, address: str }),
      product: obj({ name: str, sku: str }),
      items: arrayOf(obj({ product_name: str, sku: str, quantity: int, price: int })),
    }),
    examples: [ORDER_STATUS_UPDATED_EXAMPLE],
  },
];

/** `customer` may be gone (deleted since the order was placed): its fields are then empty. */
export function orderStatusUpdated(before: Order, after: Order, customer: User | null, lines: OrderLine[], now: Date): StoreEvent {
  const items = lines.map((l) => ({ product_name: l.name, sku: l.sku, quantity: l.quantity, price: toMinorUnits(l.unitPrice) }));
  return {
    type: "order.status_updated",
    payload: {
      event: "order.status_updated",
      timestamp: now.toISOString(),
      order: {
        reference: after.reference,
        old_status: before.fulfilmentStatus,
        new_status: after.fulfilmentStatus,
        amount: toMinorUnits(after.totalAmount),
        currency: after.currency,
        tracking_number: after.trackingNumber ?? "",
        delivery_notes: after.deliveryNotes ?? "",
        created_at: after.createdAt,
      },
      customer: { name: customer?.name ?? "", phone: customer?.phone ?? "", city: customer?.city ?? "", address: customer?.address ?? "" },
      product: { name: items[0]?.product_name ?? "", sku: items[0]?.sku ?? "" },
      items,
    },
  };
}
