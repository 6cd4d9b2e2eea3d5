import { RE2JS } from "re2js";

/**
 * Payload filters: Mongo-style conditions on a message's payload, evaluated
 * when the message is published (a message that does not match creates no
 * delivery for the endpoint). The filter is checked when it is stored
 * (`filterProblems`, src/core/payload-filter-check.ts); this file compiles a
 * checked filter into a predicate and evaluates it.
 *
 * Semantics (docs/delivery.md, "Filters"):
 * - `{path: literal}` is equality; `{path: {$op: operand, …}}` ANDs operators;
 *   the keys of one object are ANDed; `$and`/`$or` take lists of filters,
 *   `$not` a filter (or, under a path, an operator object).
 * - A path is dotted (`data.order.status`). A numeric segment indexes an
 *   array; any other segment, met on an array, is applied to each element
 *   (`items.sku` reaches every item's sku). The values a path reaches are its
 *   candidates; an array candidate also offers its elements (`{tags: "a"}`
 *   matches `tags: ["a", "b"]`), as in MongoDB.
 * - Positive operators (`$eq $gt $gte $lt $lte $in $regex`) match when some
 *   candidate matches; `$ne`/`$nin` are their negations (so a missing path
 *   matches `$ne`); `$exists` asks whether the path reaches any value.
 * - No type coercion: `5` ≠ `"5"`; `$gt`/`$lt`… compare numbers with numbers
 *   and strings with strings (UTF-16 code units); any other pair is no match.
 *   `null` equals only an explicit null (use `$exists: false` for missing).
 * - Equality is deep for objects (key order irrelevant) and arrays (order
 *   relevant).
 * - `$regex` is RE2 (linear time), unanchored, on string candidates only;
 *   flags go inline (`(?i)`).
 *
 * Evaluation is total: it never throws, whatever the payload.
 */

/** A stored filter: a JSON object, checked by `filterProblems`. */
export type PayloadFilter = { [key: string]: unknown };

/** A compiled filter. */
export type PayloadPredicate = (payload: unknown) => boolean;

type Test = (value: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Deep JSON equality: objects regardless of key order, arrays in order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k) || !jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

/** Numbers with numbers, strings with strings; anything else is not comparable. */
function compare(a: unknown, b: unknown): number | undefined {
  if (typeof a === "number" && typeof b === "number") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** The values a path reaches (empty: missing). */
export function resolvePath(root: unknown, segments: readonly string[]): unknown[] {
  let current: unknown[] = [root];
  for (const seg of segments) {
    const next: unknown[] = [];
    const index = /^(0|[1-9]\d{0,8})$/.test(seg) ? Number(seg) : -1;
    for (const v of current) {
      if (Array.isArray(v)) {
        if (index >= 0) {
          if (index < v.length) next.push(v[index]);
        } else {
          for (const el of v) if (isObject(el) && Object.hasOwn(el, seg)) next.push(el[seg]);
        }
      } else if (isObject(v) && Object.hasOwn(v, seg)) {
        next.push(v[seg]);
      }
    }
    current = next;
    if (current.length === 0) break;
  }
  return current;
}

/** Candidates of a comparison: each value reached, and the elements of an array value. */
const anyCandidate = (values: unknown[], test: Test): boolean =>
  values.some((v) => test(v) || (Array.isArray(v) && v.some(test)));

const regexCache = new Map<string, RE2JS>();
/** Compiles (and caches) an RE2 pattern; throws on a pattern RE2 refuses. */
export function compileRegex(pattern: string): RE2JS {
  let re = regexCache.get(pattern);
  if (!re) {
    re = RE2JS.compile(RE2JS.translateRegExp(pattern));
    if (regexCache.size >= 1000) regexCache.clear();
    regexCache.set(pattern, re);
  }
  return re;
}

/** An operator object under a path → a test of the path's resolved values. */
function compileOperators(ops: Record<string, unknown>): (values: unknown[]) => boolean {
  const tests: ((values: unknown[]) => boolean)[] = [];
  for (const [op, operand] of Object.entries(ops)) {
    switch (op) {
      case "$eq":
        tests.push((vs) => anyCandidate(vs, (v) => jsonEqual(v, operand)));
        break;
      case "$ne":
        tests.push((vs) => !anyCandidate(vs, (v) => jsonEqual(v, operand)));
        break;
      case "$gt":
        tests.push((vs) => anyCandidate(vs, (v) => (compare(v, operand) ?? 0) > 0));
        break;
      case "$gte":
        tests.push((vs) => anyCandidate(vs, (v) => (compare(v, operand) ?? -1) >= 0));
        break;
      case "$lt":
        tests.push((vs) => anyCandidate(vs, (v) => (compare(v, operand) ?? 0) < 0));
        break;
      case "$lte":
        tests.push((vs) => anyCandidate(vs, (v) => (compare(v, operand) ?? 1) <= 0));
        break;
      case "$in": {
        const list = operand as unknown[];
        tests.push((vs) => anyCandidate(vs, (v) => list.some((x) => jsonEqual(v, x))));
        break;
      }
      case "$nin": {
        const list = operand as unknown[];
        tests.push((vs) => !anyCandidate(vs, (v) => list.some((x) => jsonEqual(v, x))));
        break;
      }
      case "$exists": {
        const want = operand === true;
        tests.push((vs) => vs.length > 0 === want);
        break;
      }
      case "$regex": {
        const re = compileRegex(operand as string);
        tests.push((vs) => anyCandidate(vs, (v) => typeof v === "string" && re.test(v)));
        break;
      }
      case "$not": {
        const inner = compileOperators(operand as Record<string, unknown>);
        tests.push((vs) => !inner(vs));
        break;
      }
      default:
        throw new Error(`unknown operator ${op}`);
    }
  }
  return (vs) => tests.every((t) => t(vs));
}

/** An object whose keys all start with `$` (and there is at least one). */
export const isOperatorObject = (v: unknown): v is Record<string, unknown> => {
  if (!isObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k.startsWith("$"));
};

function compileNode(filter: PayloadFilter): PayloadPredicate {
  const parts: PayloadPredicate[] = [];
  for (const [key, value] of Object.entries(filter)) {
    if (key === "$and" || key === "$or") {
      const subs = (value as PayloadFilter[]).map(compileNode);
      parts.push(key === "$and" ? (p) => subs.every((s) => s(p)) : (p) => subs.some((s) => s(p)));
    } else if (key === "$not") {
      const sub = compileNode(value as PayloadFilter);
      parts.push((p) => !sub(p));
    } else {
      const segments = key.split(".");
      const test = isOperatorObject(value)
        ? compileOperators(value)
        : (vs: unknown[]) => anyCandidate(vs, (v) => jsonEqual(v, value));
      parts.push((p) => test(resolvePath(p, segments)));
    }
  }
  return (p) => parts.every((part) => part(p));
}

const compiled = new WeakMap<PayloadFilter, PayloadPredicate>();

/**
 * A checked filter → its predicate (cached per filter object). The predicate
 * never throws: a filter is checked before it is stored, and evaluation only
 * reads the payload.
 *
 * @example
 * const wants = compileFilter({ "data.amount": { $gte: 100 }, type: { $in: ["a", "b"] } });
 * wants({ type: "a", data: { amount: 120 } }); // true
 */
export function compileFilter(filter: PayloadFilter): PayloadPredicate {
  let predicate = compiled.get(filter);
  if (!predicate) {
    const inner = compileNode(filter);
    predicate = (payload) => {
      try {
        return inner(payload);
      } catch {
        // Unreachable for a checked filter and a JSON payload; a filter that
        // cannot be evaluated selects nothing rather than failing a publish.
        return false;
      }
    };
    compiled.set(filter, predicate);
  }
  return predicate;
}
