// @ts-check
// What colour an endpoint's health is, in one place: cards, tiles, the triage
// list and the charts all use it, so 49 % is red everywhere.

/** @typedef {"ok" | "warn" | "bad" | "idle"} Health */

/**
 * `ok` at 99 % or more, `warn` from 90 %, `bad` below (and whenever the
 * endpoint is disabled: it receives nothing), `idle` without attempts.
 * @param {number | null | undefined} rate success rate, 0–1
 * @param {string} [status] the endpoint's status
 * @returns {Health}
 */
export function healthOf(rate, status) {
  if (status === "disabled") return "bad";
  if (rate === null || rate === undefined) return "idle";
  if (rate >= 0.99) return "ok";
  if (rate >= 0.9) return "warn";
  return "bad";
}

/** What each colour means, for tooltips and the docs. */
export const HEALTH_MEANING = {
  ok: "healthy: 99 % or more of the last 24 hours' attempts succeeded",
  warn: "degraded: 90–99 % succeeded",
  bad: "failing: under 90 % succeeded, or disabled",
  idle: "no attempts in the last 24 hours",
};
