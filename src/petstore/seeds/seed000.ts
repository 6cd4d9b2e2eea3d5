import { uuidv7 } from "../ids.js";
import { ORDER_STATUSES } from "../lifecycle.js";
import type { Order } from "../repo.js";
import { decimal, type EventTypeSpec, obj, payload, type StoreEvent, str, time } from "./schema.js";

/**
 * Seed 000 (the Apidog Pet Store's "Order Status Changed Event"):
 * `order.statusChanged`, `{eventId, eventType, timestamp, data: {order,
 * previousStatus, newStatus, changedAt, changedBy}}`, money as a decimal string.
 */

/** The seed's example, verbatim. */
export const ORDER_STATUS_CHANGED_EXAMPLE = {
  eventId: "evt_9f4a8b3c-2d5e-6f7g-8h9i-0j1k2l3m4n5o",
  eventType: "order.statusChanged",
  timestamp: "2024-12-16T10:30:00Z",
  data: {
    order: {
      id: "019b4139-1234-7abc-8def-123456789abc",
      petId: "019b4132-70aa-764f-b315-e2803d882a24",
      userId: "019b4138-e0af-70b9-8f0c-6ea97d495dfa",
      status: "APPROVED",
      totalAmount: "125.50",
      currency: "USD",
      createdAt: "2024-12-16T09:00:00Z",
      updatedAt: "2024-12-16T10:30:00Z",
    },
    previousStatus: "PLACED",
    newStatus: "APPROVED",
    changedAt: "2024-12-16T10:30:00Z",
    changedBy: "system",
  },
};

const status = { enum: [...ORDER_STATUSES] };

export const SEED_000_TYPES: EventTypeSpec[] = [
  {
    name: "order.statusChanged",
    seed: "000",
    description:
      "An order moved along its lifecycle (seed 000's shape): PLACED → APPROVED (payment confirmed) → SHIPPED → DELIVERED, or to CANCELLED. `changedBy` is `system` for the approval a payment causes, `api` otherwise.",
    schema: payload({
      eventId: str,
      eventType: { const: "order.statusChanged" },
      timestamp: time,
      data: obj({
        order: obj({ id: str, petId: str, userId: str, status, totalAmount: decimal, currency: str, createdAt: time, updatedAt: time }),
        previousStatus: status,
        newStatus: status,
        changedAt: time,
        changedBy: str,
      }),
    }),
    examples: [ORDER_STATUS_CHANGED_EXAMPLE],
  },
];

export function orderStatusChanged(before: Order, after: Order, changedBy: string, now: Date): StoreEvent {
  const at = now.toISOString();
  return {
    type: "order.statusChanged",
    payload: {
      eventId: `evt_${uuidv7(now.getTime())}`,
      eventType: "order.statusChanged",
      timestamp: at,
      data: {
        order: {
          id: after.id,
          petId: after.petId,
          userId: after.userId,
          status: after.status,
          totalAmount: after.totalAmount,
          currency: after.currency,
          createdAt: after.createdAt,
          updatedAt: after.updatedAt,
        },
        previousStatus: before.status,
        newStatus: after.status,
        changedAt: at,
        changedBy,
      },
    },
  };
}
