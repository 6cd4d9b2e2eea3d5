import type { FieldError } from "./errors.js";
import { compileRegex, isOperatorObject } from "./payload-filter.js";

/**
 * The checks of an endpoint's payload filter, made when it is stored (create
 * and PATCH, API and library alike): every fault is reported with the JSON
 * pointer of the value at fault, e.g. `/filter/data.amount/$gt`. The limits
 * bound both the stored row and the work of one evaluation.
 */
export const FILTER_LIMITS = {
  /** The filter serialized as JSON, in UTF-16 code units. */
  maxLength: 8192,
  /** JSON nesting depth of the whole filter (`{"a": 1}` is 1). */
  maxDepth: 10,
  /** Path conditions and operators in the whole filter. */
  maxConditions: 100,
  /** Segments of one dotted path. */
  maxPathSegments: 32,
  /** Values of one `$in` / `$nin` list. */
  maxInValues: 256,
  /** Length of one `$regex` pattern. */
  maxRegexLength: 1024,
} as const;

const COMBINATORS = new Set(["$and", "$or", "$not"]);
const OPERATORS = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$regex", "$not"]);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** RFC 6901 escaping of one pointer token. */
const token = (key: string | number): string => String(key).replaceAll("~", "~0").replaceAll("/", "~1");

function depthOf(v: unknown, limit: number): number {
  if (typeof v !== "object" || v === null) return 0;
  if (limit <= 0) return 1;
  let max = 0;
  for (const child of Object.values(v)) max = Math.max(max, depthOf(child, limit - 1));
  return 1 + max;
}

function hasDollarKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasDollarKey);
  if (!isObject(v)) return false;
  return Object.entries(v).some(([k, child]) => k.startsWith("$") || hasDollarKey(child));
}

/**
 * Every problem of a filter (empty: valid). `base` is the pointer of the
 * filter in the request body.
 *
 * @example
 * filterProblems({ "data.amount": { $gt: true } });
 * // [{ path: "/filter/data.amount/$gt", message: "must be a number or a string" }]
 */
export function filterProblems(filter: unknown, base = "/filter"): FieldError[] {
  const errors: FieldError[] = [];
  if (!isObject(filter)) return [{ path: base, message: "must be an object (or null for no filter)" }];
  let text: string;
  try {
    text = JSON.stringify(filter);
  } catch {
    return [{ path: base, message: "must be JSON" }];
  }
  if (text.length > FILTER_LIMITS.maxLength) {
    return [{ path: base, message: `must be at most ${FILTER_LIMITS.maxLength} characters as JSON` }];
  }
  if (depthOf(filter, FILTER_LIMITS.maxDepth + 1) > FILTER_LIMITS.maxDepth) {
    return [{ path: base, message: `must nest at most ${FILTER_LIMITS.maxDepth} levels deep` }];
  }
  let conditions = 0;
  const add = (path: string, message: string) => errors.push({ path, message });

  const checkNode = (node: unknown, at: string): void => {
    if (!isObject(node)) {
      add(at, "must be an object of conditions");
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      const path = `${at}/${token(key)}`;
      conditions++;
      if (key === "$and" || key === "$or") {
        if (!Array.isArray(value) || value.length === 0) {
          add(path, "must be a non-empty list of filters");
          continue;
        }
        for (const [i, sub] of value.entries()) checkNode(sub, `${path}/${i}`);
      } else if (key === "$not") {
        checkNode(value, path);
      } else if (key.startsWith("$")) {
        add(path, OPERATORS.has(key)
          ? `${key} compares a value: put it under a path, e.g. {"data.amount": {"${key}": …}}`
          : `unknown combinator; a filter's keys are dotted paths or ${[...COMBINATORS].join(", ")}`);
      } else {
        const segments = key.split(".");
        if (segments.some((s) => s === "")) add(path, "is not a dotted path: empty segment");
        else if (segments.length > FILTER_LIMITS.maxPathSegments) add(path, `has more than ${FILTER_LIMITS.maxPathSegments} segments`);
        checkCondition(value, path);
      }
    }
  };

  const checkCondition = (value: unknown, path: string): void => {
    if (isOperatorObject(value)) {
      checkOperators(value, path);
    } else if (isObject(value) && Object.keys(value).some((k) => k.startsWith("$"))) {
      add(path, "mixes operators ($…) and fields: use either an object of operators or a literal");
    } else if (hasDollarKey(value)) { add(path, "a literal must not contain keys starting with $ (operators go right under a path)");
    }
  };

  const checkOperators = (ops: Record<string, unknown>, at: string): void => {
    for (const [op, operand] of Object.entries(ops)) {
      const path = `${at}/${token(op)}`;
      conditions++;
      switch (op) {
        case "$eq":
        case "$ne":
          if (hasDollarKey(operand)) add(path, "a literal must not contain keys starting with $");
          break;
        case "$gt":
        case "$gte":
        case "$lt":
        case "$lte":
          if (typeof operand !== "number" && typeof operand !== "string") add(path, "must be a number or a string");
          break;
        case "$in":
        case "$nin":
          if (!Array.isArray(operand)) add(path, "must be a list of values");
          else if (operand.length > FILTER_LIMITS.maxInValues) add(path, `must have at most ${FILTER_LIMITS.maxInValues} values`);
          else if (hasDollarKey(operand)) add(path, "a literal must not contain keys starting with $");
          break;
        case "$exists":
          if (typeof operand !== "boolean") add(path, "must be true or false");
          break;
        case "$regex":
          if (typeof operand !== "string") add(path, "must be a string (an RE2 pattern)");
          else if (operand.length > FILTER_LIMITS.maxRegexLength) add(path, `must be at most ${FILTER_LIMITS.maxRegexLength} characters`);
          else {
            try {
              compileRegex(operand);
            } catch (err) {
              const why = err instanceof Error ? err.message : String(err);
              add(path, `is not a pattern RE2 can run (linear time: no lookaround, no backreferences): ${why}`);
            }
          }
          break;
        case "$not":
          if (!isOperatorObject(operand)) add(path, "must be an object of operators, e.g. {\"$not\": {\"$in\": […]}}");
          else checkOperators(operand, path);
          break;
        default:
          add(path, `unknown operator; use one of ${[...OPERATORS].join(", ")}`);
      }
    }
  };

  checkNode(filter, base);
  if (conditions > FILTER_LIMITS.maxConditions) {
    errors.unshift({ path: base, message: `must have at most ${FILTER_LIMITS.maxConditions} conditions and operators` });
  }
  return errors;
}
