/**
 * Money is a decimal string with at most two decimals ("125.50") on the API and
 * in the store's tables; never a float there. Events follow their seed: the
 * decimal string (seeds 000, 004), a JSON number (seeds 001, 002: converted
 * only when the payload is built), or integer minor units (12550, seed 003).
 */
export const DECIMAL_PATTERN = "^(0|[1-9][0-9]{0,11})(\\.[0-9]{1,2})?$";

/** "125.5" → 12550. */
export function toMinorUnits(amount: string): number {
  const [whole, frac = ""] = amount.split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

/** "125.5" → "125.50": one spelling per amount. */
export function normalizeAmount(amount: string): string {
  const minor = toMinorUnits(amount);
  return `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, "0")}`;
}
