import { HeraldError, notFound } from "../core/errors.js";
import type { Emit, PetstoreContext } from "./context.js";
import { orderCreated, orderDeleted, orderFulfilmentMoved, orderMoved, paymentFailed, paymentSucceeded } from "./events.js";
import { uuidv7 } from "./ids.js";
import { assertFulfilmentMove, assertOrderMove, type OrderStatus } from "./lifecycle.js";
import { normalizeAmount } from "./money.js";
import { orderLines } from "./order-lines.js";
import type { Order, OrderItem, Payment } from "./repo.js";

/** Orders, payments and fulfilment: the seeds' order lifecycle, enforced, each move with its events. */

function invalidRef(path: string, what: string, id: string): HeraldError {
  return new HeraldError("validation_failed", `${path}: no ${what} ${JSON.stringify(id)}`, [{ path, message: `no such ${what}` }]);
}

export function getOrder(ctx: PetstoreContext, id: string): Order {
  const order = ctx.tables.orders.get(id);
  if (!order) throw notFound("order", id);
  return order;
}

/** The next order reference (`ORD-000001`, …): from a sequence, never reused after a delete. */
function nextReference(ctx: PetstoreContext): string {
  const { value } = ctx.db.prepare("UPDATE petstore_sequences SET value = value + 1 WHERE name = 'order_reference' RETURNING value").get() as { value: number };
  return `ORD-${String(value).padStart(6, "0")}`;
}

export function createOrder(
  ctx: PetstoreContext,
  input: { petId: string; userId: string; totalAmount: string; currency: string; items?: OrderItem[]; deliveryNotes?: string },
): Order {
  return ctx.transaction((emit) => {
    if (!ctx.tables.pets.get(input.petId)) throw invalidRef("/petId", "pet", input.petId);
    const user = ctx.tables.users.get(input.userId);
    if (!user) throw invalidRef("/userId", "user", input.userId);
    for (const [i, item] of (input.items ?? []).entries()) {
      if (!ctx.tables.products.get(item.productId)) throw invalidRef(`/items/${i}/productId`, "product", item.productId);
    }
    const now = new Date();
    const order = ctx.tables.orders.insert({
      id: uuidv7(now.getTime()),
      reference: nextReference(ctx),
      petId: input.petId,
      userId: input.userId,
      status: "PLACED",
      fulfilmentStatus: "pending",
      totalAmount: normalizeAmount(input.totalAmount),
      currency: input.currency,
      items: input.items ?? [],
      trackingNumber: null,
      deliveryNotes: input.deliveryNotes ?? null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    emit(orderCreated(order, orderLines(ctx, order), user, now));
    return order;
  });
}

/** Moves an order along its lifecycle and publishes every event type that describes the move. */
function moveOrder(ctx: PetstoreContext, emit: Emit, order: Order, to: OrderStatus, changedBy: string, now: Date): Order {
  assertOrderMove(order.status, to);
  const moved = ctx.tables.orders.update(order.id, { status: to, updatedAt: now.toISOString() })!;
  for (const event of orderMoved(order, moved, changedBy, now)) emit(event);
  return moved;
}

export function changeOrderStatus(ctx: PetstoreContext, id: string, to: "SHIPPED" | "DELIVERED" | "CANCELLED", changedBy = "api"): Order {
  return ctx.transaction((emit) => moveOrder(ctx, emit, getOrder(ctx, id), to, changedBy, new Date()));
}

/** Deletes a cancelled or delivered order (`order.deleted`); any other is still in progress: 409 `invalid_transition`. */
export function deleteOrder(ctx: PetstoreContext, id: string): void {
  ctx.transaction((emit) => {
    const order = getOrder(ctx, id);
    if (order.status !== "CANCELLED" && order.status !== "DELIVERED") {
      throw new HeraldError("invalid_transition", `order ${id} is ${order.status}: only a CANCELLED or DELIVERED order can be deleted`);
    }
    ctx.tables.orders.delete(id);
    emit(orderDeleted(order, new Date()));
  });
}

const BRANDS: [RegExp, string][] = [
  [/^4/, "Visa"],
  [/^(5[1-5]|2[2-7])/, "Mastercard"],
  [/^3[47]/, "American Express"],
  [/^6(011|5)/, "Discover"],
];

/** A card number ending in 9995 is declined for insufficient funds (the usual test-card convention). */
const DECLINED_SUFFIX = "9995";

export interface PaymentResult {
  payment: Payment;
  order: Order;
}

/**
 * Pays an order by card. Success approves the order (`payment.succeeded` and
 * `payment.success`, then the order's move PLACED → APPROVED by "system"); a
 * decline records a failed payment and publishes `payment.failed`, leaving the
 * order unchanged.
 */
export function payOrder(ctx: PetstoreContext, id: string, card: { number: string; expMonth: number; expYear: number }): PaymentResult {
  const now = new Date();
  if (card.expYear < now.getUTCFullYear() || (card.expYear === now.getUTCFullYear() && card.expMonth < now.getUTCMonth() + 1)) {
    throw new HeraldError("validation_failed", "/card: the card has expired", [{ path: "/card", message: "the card has expired" }]);
  }
  return ctx.transaction((emit) => {
    const order = getOrder(ctx, id);
    assertOrderMove(order.status, "APPROVED");
    const declined = card.number.endsWith(DECLINED_SUFFIX);
    const payment = ctx.tables.payments.insert({
      id: uuidv7(now.getTime()),
      orderId: order.id,
      amount: order.totalAmount,
      currency: order.currency,
      status: declined ? "FAILED" : "SUCCEEDED",
      cardLast4: card.number.slice(-4),
      cardBrand: BRANDS.find(([re]) => re.test(card.number))?.[1] ?? "Card",
      errorCode: declined ? "INSUFFICIENT_FUNDS" : null,
      createdAt: now.toISOString(),
    });
    if (declined) {
      emit(paymentFailed(payment, now));
      return { payment, order };
    }
    for (const event of paymentSucceeded(payment, now)) emit(event);
    return { payment, order: moveOrder(ctx, emit, order, "APPROVED", "system", now) };
  });
}

/**
 * The fulfilment provider's status (seed 003), separate from the order's own
 * lifecycle; allowed once an order is paid and while it is not cancelled.
 */
export function updateFulfilment(ctx: PetstoreContext, id: string, input: { status: string; trackingNumber?: string }): Order {
  return ctx.transaction((emit) => {
    const order = getOrder(ctx, id);
    if (order.status === "PLACED" || order.status === "CANCELLED") {
      throw new HeraldError("invalid_transition", `order ${id} is ${order.status}: fulfilment starts once an order is paid and stops if it is cancelled`);
    }
    assertFulfilmentMove(order.fulfilmentStatus, input.status);
    const now = new Date();
    const updated = ctx.tables.orders.update(id, {
      fulfilmentStatus: input.status,
      trackingNumber: input.trackingNumber ?? order.trackingNumber,
      updatedAt: now.toISOString(),
    })!;
    for (const event of orderFulfilmentMoved(order, updated, ctx.tables.users.get(order.userId), orderLines(ctx, updated), now)) emit(event);
    return updated;
  });
}
