import { HeraldError } from "./errors.js";
import { escapeKey } from "./validation.js";

/**
 * What Herald accepts as JSON beyond the grammar:
 *
 * - values nested at most `MAX_JSON_DEPTH` levels: deeper ones overflow the
 *   stack of `JSON.stringify` and of every recursive reader after it;
 * - values that come back from storage as they were sent: no lone UTF-16
 *   surrogates (`"\ud800"` cannot be written as UTF-8 and would be stored as
 *   U+FFFD), no numbers a double cannot hold (`1e400` would become `Infinity`
 *   and be sent as `null`; `1e-400` would become `0`).
 *
 * Every check is iterative: a hostile value cannot overflow the checker.
 */

/**
 * How deep a JSON value (a payload, a schema, metadata) may nest: `{}` is 1
 * level, `{"a": []}` 2. A request body may be one level deeper, for its
 * envelope (`{"payload": …}`).
 */
export const MAX_JSON_DEPTH = 64;

/** The 422 `too_deep` for a value nested deeper than the limit. */
export function tooDeep(what: string, maxDepth: number, where: string): HeraldError {
  return new HeraldError("too_deep", `${what} nests arrays and objects more than ${maxDepth} levels deep (${where}); Herald accepts at most ${maxDepth}`);
}

/** The 422 `validation_failed` for a value that would not survive storage unchanged. */
function unencodable(path: string, message: string): HeraldError {
  return new HeraldError("validation_failed", `${path}: ${message}`, [{ path, message }]);
}

/** The same for a problem found in JSON text (`what`: "the request body", "the payload"), located by offset. */
function unencodableText(what: string, problem: string): HeraldError {
  return new HeraldError("validation_failed", `${what}: ${problem}`, [{ path: "/", message: problem }]);
}

/**
 * Checks JSON text, in one pass and before it is parsed: nesting depth (`too_deep`),
 * lone surrogate escapes and numbers outside a double's range (`validation_failed`),
 * each reported with its character offset; returns how deep it nests. Text that is not JSON at all is left
 * to the parser. `text` must itself be well-formed (decoded with a fatal UTF-8
 * decoder, or checked by `checkJsonText`).
 *
 * @example
 * scanJsonText('{"a": 1e400}', "the request body", 65); // throws validation_failed
 */
export function scanJsonText(text: string, what: string, maxDepth: number): number {
  let depth = 0;
  let deepest = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = endOfString(text, i + 1, what);
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) throw tooDeep(what, maxDepth, `at character ${i}`);
      if (depth > deepest) deepest = depth;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i + 1;
      let exponent = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (!isNumberChar(d)) break;
        if (d === 0x65 || d === 0x45) exponent = true;
      }
      // Only long tokens or exponents can fail to come back as written: the common short number is not sliced.
      if (exponent || j - i > 15) {
        const problem = numberProblem(text.slice(i, j));
        if (problem) throw unencodableText(what, `${problem} (at character ${i})`);
      }
      i = j - 1;
    }
  }
  return deepest;
}

/** The index of the quote that closes the string starting at `from`; checks its `\u` escapes on the way. */
function endOfString(text: string, from: number, what: string): number {
  const n = text.length;
  let i = from;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i;
    if (c !== 0x5c) continue;
    if (text.charCodeAt(i + 1) !== 0x75) {
      i++; // a one-character escape: \" \\ \n …
      continue;
    }
    // \uXXXX: a surrogate is only valid as a high escape directly followed by a low one.
    const unit = hex4(text, i + 2);
    if (unit >= 0xd800 && unit <= 0xdbff && text.charCodeAt(i + 6) === 0x5c && text.charCodeAt(i + 7) === 0x75) {
      const low = hex4(text, i + 8);
      if (low >= 0xdc00 && low <= 0xdfff) {
        i += 11;
        continue;
      }
    }
    if (unit >= 0xd800 && unit <= 0xdfff) {
      throw unencodableText(what, `the escape \\u${text.slice(i + 2, i + 6)} at character ${i} is a lone UTF-16 surrogate, which cannot be encoded as UTF-8`);
    }
    i += 5;
  }
  return i;
}

/** The value of the four hex digits at `at`, or -1. */
function hex4(text: string, at: number): number {
  const digits = text.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(digits) ? Number.parseInt(digits, 16) : -1;
}

/** Digits and `+ - . e E`: what can continue a JSON number. */
const isNumberChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x65 || c === 0x45;

/** Why a number token (a long one, or one with an exponent) would not come back as written, or undefined. */
function numberProblem(token: string): string | undefined {
  const value = Number(token);
  if (Number.isNaN(value)) return undefined; // not a number: the parser says so
  const shown = token.length > 40 ? `${token.slice(0, 20)}…${token.slice(-10)}` : token;
  if (!Number.isFinite(value)) return `the number ${shown} is beyond the range of a double (IEEE 754) and cannot be kept as sent`;
  if (value === 0 && /[1-9]/.test(token.split(/[eE]/)[0]!)) return `the number ${shown} is too small for a double (IEEE 754): it would become 0`;
  return undefined;
}

/** True when a string holds a lone surrogate. (`isWellFormed` is in Node 20, not yet in TypeScript's ES2022 lib.) */
const illFormed = (s: string): boolean => !(s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * Checks JSON text that a library caller serialized: as `scanJsonText`, and
 * no lone surrogate characters in the text itself.
 */
export function checkJsonText(text: string, what: string, maxDepth = MAX_JSON_DEPTH): void {
  if (illFormed(text)) throw unencodableText(what, "contains a lone UTF-16 surrogate, which cannot be encoded as UTF-8");
  scanJsonText(text, what, maxDepth);
}

interface Node {
  value: unknown;
  depth: number;
  key: string | number | null;
  parent: Node | null;
}

/** The JSON pointer of a node (RFC 6901), under `prefix`. */
function pointer(node: Node, prefix: string): string {
  const parts: string[] = [];
  for (let n: Node | null = node; n !== null && n.key !== null; n = n.parent) {
    parts.push(`/${escapeKey(n.key)}`);
  }
  return prefix + parts.reverse().join("") || "/";
}

/**
 * Checks a value a library caller passes (before `JSON.stringify` sees it),
 * without recursion: nesting depth (`too_deep`; a value that contains itself
 * is too deep too), lone surrogates in strings and keys, and numbers that are
 * not finite (`validation_failed`, path under `prefix`).
 *
 * @example
 * checkJsonValue({ name: "\ud800" }, "/payload", "the payload"); // throws: /payload/name: contains a lone UTF-16 surrogate …
 */
export function checkJsonValue(value: unknown, prefix: string, what: string, maxDepth = MAX_JSON_DEPTH): void {
  const stack: Node[] = [{ value, depth: 1, key: null, parent: null }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === "string") {
      if (illFormed(v)) throw unencodable(pointer(node, prefix), "contains a lone UTF-16 surrogate, which cannot be encoded as UTF-8");
    } else if (typeof v === "number") {
      if (!Number.isFinite(v)) throw unencodable(pointer(node, prefix), `is ${v}, which JSON cannot represent`);
    } else if (typeof v === "object" && v !== null) {
      if (node.depth > maxDepth) throw tooDeep(what, maxDepth, `at ${pointer(node, prefix)}`);
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth: node.depth + 1, key: i, parent: node });
      } else {
        for (const key of Object.keys(v)) {
          const child: Node = { value: (v as Record<string, unknown>)[key], depth: node.depth + 1, key, parent: node };
          if (illFormed(key)) throw unencodable(pointer(child, prefix), "is a key with a lone UTF-16 surrogate, which cannot be encoded as UTF-8");
          stack.push(child);
        }
      }
    }
  }
}
