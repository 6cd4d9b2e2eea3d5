import { HeraldError } from "../core/errors.js";

export const PET_STATUSES = ["AVAILABLE", "PENDING", "ADOPTED", "NOT_AVAILABLE"] as const;
export type PetStatus = (typeof PET_STATUSES)[number];

export const ORDER_STATUSES = ["PLACED", "APPROVED", "SHIPPED", "DELIVERED", "CANCELLED"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/**
 * The seed's order lifecycle: PLACED → APPROVED (payment confirmed) → SHIPPED →
 * DELIVERED, and any status → CANCELLED, except that DELIVERED and CANCELLED
 * are final.
 */
const ORDER_MOVES: Record<OrderStatus, readonly OrderStatus[]> = {
  PLACED: ["APPROVED", "CANCELLED"],
  APPROVED: ["SHIPPED", "CANCELLED"],
  SHIPPED: ["DELIVERED", "CANCELLED"],
  DELIVERED: [],
  CANCELLED: [],
};

/** The fulfilment provider's table (seed 003): every old_status → new_status pair it sends. */
export const FULFILMENT_MOVES: Record<string, readonly string[]> = {
  pending: ["picked_up"],
  picked_up: ["preparing"],
  preparing: ["prepared"],
  prepared: ["out_for_delivery"],
  out_for_delivery: ["delivered", "returned"],
  returned: ["delivered", "return_received"],
  return_received: ["returned_to_stock"],
  delivered: [],
  returned_to_stock: [],
};
export const FULFILMENT_STATUSES = Object.keys(FULFILMENT_MOVES);

export function assertOrderMove(from: OrderStatus, to: OrderStatus): void {
  if (!ORDER_MOVES[from].includes(to)) {
    const why = ORDER_MOVES[from].length === 0 ? `${from} is final` : `from ${from} an order can only become ${ORDER_MOVES[from].join(" or ")}`;
    throw new HeraldError("invalid_transition", `cannot move an order from ${from} to ${to}: ${why}`);
  }
}

export function assertFulfilmentMove(from: string, to: string): void {
  const allowed = FULFILMENT_MOVES[from] ?? [];
  if (!allowed.includes(to)) {
    const why = allowed.length === 0 ? `${from} is final` : `from ${from} the next step is ${allowed.join(" or ")}`;
    throw new HeraldError("invalid_transition", `cannot move fulfilment from ${from} to ${to}: ${why}`);
  }
}
