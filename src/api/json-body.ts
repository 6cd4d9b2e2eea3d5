import type { FastifyInstance } from "fastify";
import { HeraldError } from "../core/errors.js";
import { MAX_JSON_DEPTH, scanJsonText } from "../core/json-limits.js";

/**
 * The API's one body parser: `application/json` (any charset parameter is
 * ignored: JSON is UTF-8), checked before anything else reads it:
 *
 * 1. the bytes must be UTF-8 (a fatal decoder: invalid bytes would otherwise
 *    be stored as U+FFFD) → 422 `validation_failed`;
 * 2. one iterative pass over the text: at most `MAX_JSON_DEPTH` + 1 levels
 *    (the body's own envelope around a value of `MAX_JSON_DEPTH`) → 422
 *    `too_deep`; no lone surrogate escapes, no numbers a double cannot hold
 *    → 422 `validation_failed`;
 * 3. then Fastify's own parser (`__proto__` / `constructor.prototype` keys are
 *    refused, 400 `malformed_json`).
 *
 * Every other media type is a 415: there is no other parser.
 */

/** A request body may nest one level more than the values it carries. */
export const MAX_BODY_DEPTH = MAX_JSON_DEPTH + 1;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** How deep the bodies of routes with their own `maxBodyDepth` nest (the bulk publish checks each payload only when needed). */
const depths = new WeakMap<object, number>();

/** How deep the request's JSON body nests, for routes with a `maxBodyDepth` of their own; undefined otherwise. */
export const bodyDepth = (req: object): number | undefined => depths.get(req);

export function jsonBodyParser(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    const bytes = body as Buffer;
    // An empty body is "no body" (actions whose body is optional); the schema decides.
    if (bytes.length === 0) return done(null, undefined);
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      const problem = `is not valid UTF-8 (byte ${firstInvalidByte(bytes)}); send JSON as UTF-8`;
      return done(new HeraldError("validation_failed", `the request body ${problem}`, [{ path: "/", message: problem }]));
    }
    try {
      const own = req.routeOptions.config?.maxBodyDepth;
      const depth = scanJsonText(text, "the request body", own ?? MAX_BODY_DEPTH);
      if (own !== undefined) depths.set(req, depth);
    } catch (err) {
      return done(err as Error);
    }
    parseJson(req, text, done);
  });
}

/** The offset of the first byte that does not begin or continue a valid UTF-8 sequence (the error's position). */
export function firstInvalidByte(bytes: Uint8Array): number {
  // Decoding prefixes is O(n²) in the worst case; a linear scan of sequence shapes is not.
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0) return i;
    if (len > 1) {
      try {
        utf8.decode(bytes.subarray(i, i + len));
      } catch {
        return i;
      }
    }
    i += len;
  }
  return i;
}
