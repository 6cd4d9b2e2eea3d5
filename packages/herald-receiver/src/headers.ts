/**
 * The header shapes a receiver meets: Node's `req.headers` (lower-case keys,
 * arrays for repeated headers), a plain object with any casing, or a fetch
 * `Headers` (Fetch API, Hono, Next.js route handlers, undici).
 */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function isFetchHeaders(source: HeaderSource): source is Headers {
  return typeof (source as Headers).get === "function" && typeof (source as Headers).has === "function";
}

/**
 * One header, looked up case-insensitively; an empty value counts as absent.
 * Repeated headers are joined with `separator`, the way a proxy folding them
 * into one line would.
 */
export function headerValue(source: HeaderSource, name: string, separator = ", "): string | undefined {
  let value: string | string[] | null | undefined;
  if (isFetchHeaders(source)) {
    value = source.get(name);
  } else {
    value = source[name];
    if (value === undefined) {
      // Node lower-cases names already; only hand-built objects get the slow path.
      for (const key of Object.keys(source)) {
        if (key.toLowerCase() === name) {
          value = source[key];
          break;
        }
      }
    }
  }
  if (Array.isArray(value)) value = value.join(separator);
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}
