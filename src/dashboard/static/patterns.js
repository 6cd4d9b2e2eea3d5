// @ts-check
// Event-type patterns as endpoints use them (the browser twin of
// src/core/filters.ts): `*` matches exactly one dot-separated segment, and `*`
// alone matches every type. `order.*` matches `order.created`, neither
// `order` nor `order.status.changed`.

/**
 * @param {string} pattern
 * @param {string} eventType
 */
export function matchesEventType(pattern, eventType) {
  if (pattern === "*" || pattern === eventType) return true;
  const p = pattern.split(".");
  const e = eventType.split(".");
  if (p.length !== e.length) return false;
  return p.every((seg, i) => seg === "*" || seg === e[i]);
}

/** Whether a text is a pattern rather than one event type. */
export const isPattern = (/** @type {string} */ text) => text.includes("*");

/** `"a, b ,c"` → `["a", "b", "c"]`; empty → null. */
export function splitList(/** @type {string} */ text) {
  const items = text
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
  return items.length ? [...new Set(items)] : null;
}
