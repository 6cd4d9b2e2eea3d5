import type { OrderLine } from "./order-lines.js";
import type { Order, Payment, User } from "./repo.js";
import type { EventTypeSpec, StoreEvent } from "./seeds/schema.js";
import * as seed000 from "./seeds/seed000.js";
import * as seed001 from "./seeds/seed001.js";
import * as seed002 from "./seeds/seed002.js";
import * as seed003 from "./seeds/seed003.js";
import * as seed004 from "./seeds/seed004.js";

/**
 * The Pet Store's events. Each event type follows the seed that defines it
 * (one file per seed in ./seeds/), and where seeds describe one change
 * differently, the change publishes each of them: the functions below say which
 * event types describe which change. All are emitted in the change's own
 * transaction.
 */

export type { EventTypeSpec, StoreEvent };

/** Every event type the store publishes, for the catalog: each with its seed's example, verbatim. */
export const PETSTORE_EVENT_TYPES: EventTypeSpec[] = [
  ...seed000.SEED_000_TYPES,
  ...seed001.SEED_001_TYPES,
  ...seed002.SEED_002_TYPES,
  ...seed003.SEED_003_TYPES,
  ...seed004.SEED_004_TYPES,
];

/** An order moved along its own lifecycle (paid, shipped, delivered, cancelled). */
export function orderMoved(before: Order, after: Order, changedBy: string, now: Date): StoreEvent[] {
  return [seed002.orderStatusChanged(before, after, now), seed000.orderStatusChanged(before, after, changedBy, now), seed004.orderUpdated(after, now)];
}

/** An order's fulfilment status moved along seed 003's table. */
export function orderFulfilmentMoved(before: Order, after: Order, customer: User | null, lines: OrderLine[], now: Date): StoreEvent[] {
  return [seed003.orderStatusUpdated(before, after, customer, lines, now), seed004.orderUpdated(after, now)];
}

/** A card payment succeeded (the order's approval is `orderMoved`). */
export function paymentSucceeded(payment: Payment, now: Date): StoreEvent[] {
  return [seed002.paymentSucceeded(payment, now), seed001.paymentSuccess(payment, now)];
}

export const { petAdopted, petStatusChanged, orderCreated, paymentFailed } = seed002;
export const { orderDeleted, productEvent, customerEvent } = seed004;
