import type { Payment } from "../repo.js";
import { type EventTypeSpec, num, payload, type StoreEvent, str } from "./schema.js";

/**
 * Seed 001 (the Apidog Pet Store's "Webhook example"): `payment.success`, flat:
 * `{event, orderId, amount, currency, timestamp}`, where `amount` is a JSON
 * number (the seed's `738.05`) and `timestamp` is Unix seconds as a string.
 */

/** The seed's example, verbatim. */
export const PAYMENT_SUCCESS_EXAMPLE = {
  event: "payment.success",
  orderId: "1312312",
  amount: 738.05,
  currency: "USD",
  timestamp: "1758613403",
};

export const SEED_001_TYPES: EventTypeSpec[] = [
  {
    name: "payment.success",
    seed: "001",
    description:
      "A card payment for an order succeeded (seed 001's flat shape). `amount` is a JSON number with at most two decimals; `timestamp` is Unix seconds, as a string.",
    schema: payload({ event: { const: "payment.success" }, orderId: str, amount: num, currency: str, timestamp: { type: "string", pattern: "^[0-9]+$" } }),
    examples: [PAYMENT_SUCCESS_EXAMPLE],
  },
];

export function paymentSuccess(payment: Payment, now: Date): StoreEvent {
  return {
    type: "payment.success",
    payload: {
      event: "payment.success",
      orderId: payment.orderId,
      // The seed's type: a number. Decimal strings of two decimals convert exactly enough to print back ("125.5").
      amount: Number(payment.amount),
      currency: payment.currency,
      timestamp: String(Math.floor(now.getTime() / 1000)),
    },
  };
}
