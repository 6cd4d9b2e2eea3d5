import { HeraldError, notFound } from "../core/errors.js";
import type { PetstoreContext } from "./context.js";
import { envelope } from "./events.js";
import { uuidv7 } from "./ids.js";
import { assertFulfilmentMove, assertOrderMove, type OrderStatus } from "./lifecycle.js";
import { normalizeAmount, toMinorUnits } from "./money.js";
import type { Order, OrderItem, Payment } from "./repo.js";

/** Orders, payments and fulfilment: the seeds' order lifecycle, enforced, each move with its event. */

const orderView = (o: Order) => ({
  id: o.id,
  petId: o.petId,
  userId: o.userId,
  status: o.status,
  totalAmount: o.totalAmount,
  currency: o.currency,
  createdAt: o.createdAt,
  updatedAt: o.updatedAt,
});

const paymentView = (p: Payment) => ({ id: p.id, orderId: p.orderId, amount: p.amount, currency: p.currency, status: p.status });

function invalidRef(path: string, what: string, id: string): HeraldError {
  return new HeraldError("validation_failed", `${path}: no ${what} ${JSON.stringify(id)}`, [{ path, message: `no such ${what}` }]);
}

export function getOrder(ctx: PetstoreContext, id: string): Order {
  const order = ctx.tables.orders.get(id);
  if (!order) throw notFound("order", id);
  return order;
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
    const count = (ctx.db.prepare("SELECT COUNT(*) AS n FROM petstore_orders").get() as { n: number }).n;
    const order = ctx.tables.orders.insert({
      id: uuidv7(now.getTime()),
      reference: `ORD-${String(count + 1).padStart(6, "0")}`,
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
    emit(envelope("order.created", { order: orderView(order), customer: { id: user.id, name: user.name, email: user.email } }, now));
    return order;
  });
}

/** Moves an order along its lifecycle and publishes `order.status_changed`. */
function moveOrder(ctx: PetstoreContext, emit: Parameters<Parameters<PetstoreContext["transaction"]>[0]>[0], order: Order, to: OrderStatus, changedBy: string, now: Date): Order {
  assertOrderMove(order.status, to);
  const moved = ctx.tables.orders.update(order.id, { status: to, updatedAt: now.toISOString() })!;
  emit(envelope("order.status_changed", { order: orderView(moved), previousStatus: order.status, newStatus: to, changedAt: now.toISOString(), changedBy }, now));
  return moved;
}

export function changeOrderStatus(ctx: PetstoreContext, id: string, to: "SHIPPED" | "DELIVERED" | "CANCELLED", changedBy = "api"): Order {
  return ctx.transaction((emit) => moveOrder(ctx, emit, getOrder(ctx, id), to, changedBy, new Date()));
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
 * Pays an order by card. Success approves the order (`payment.succeeded`, then
 * `order.status_changed` PLACED → APPROVED by "system"); a decline records a
 * failed payment and publishes `payment.failed`, leaving the order unchanged.
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
      emit(envelope("payment.failed", { payment: paymentView(payment), error: { code: "INSUFFICIENT_FUNDS", message: "The card has insufficient funds." } }, now));
      return { payment, order };
    }
    emit(envelope("payment.succeeded", { payment: paymentView(payment), paymentMethod: { type: "CARD", last4: payment.cardLast4, brand: payment.cardBrand } }, now));
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
    const user = ctx.tables.users.get(order.userId);
    const pet = ctx.tables.pets.get(order.petId);
    const lines = order.items.map((item) => {
      const product = ctx.tables.products.get(item.productId);
      return { product_name: product?.name ?? item.productId, sku: product?.sku ?? item.productId, quantity: item.quantity, price: toMinorUnits(product?.price ?? "0") };
    });
    const items = lines.length > 0 ? lines : [{ product_name: pet?.name ?? order.petId, sku: order.petId, quantity: 1, price: toMinorUnits(order.totalAmount) }];
    emit(
      envelope(
        "order.status_updated",
        {
          order: {
            reference: order.reference,
            old_status: order.fulfilmentStatus,
            new_status: input.status,
            amount: toMinorUnits(order.totalAmount),
            currency: order.currency,
            tracking_number: updated.trackingNumber,
            delivery_notes: order.deliveryNotes,
            created_at: order.createdAt,
          },
          customer: { name: user?.name ?? "", phone: user?.phone ?? null, city: user?.city ?? null, address: user?.address ?? null },
          product: { name: items[0]!.product_name, sku: items[0]!.sku },
          items,
        },
        now,
      ),
    );
    return updated;
  });
}
