import { WebhookVerificationError } from "./errors.js";
import { type HeaderSource, headerValue } from "./headers.js";
import { type VerifiedWebhook, type VerifyOptions, verifyWebhookDetailed } from "./verify.js";

/** What the Fetch API adapters (Hono, Next.js) take, besides what `verifyWebhook` takes. */
export interface FetchWebhookOptions extends VerifyOptions {
  /**
   * Largest body accepted, in bytes; a larger one is answered with 413. A
   * `content-length` over it is refused before the body is read. Default:
   * 1048576 (1 MiB).
   */
  limitBytes?: number;
}

/** A body too large for `limitBytes`: answered with 413, never verified. */
export class PayloadTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than ${limit} bytes`);
  }
}

/** The body and headers of a Fetch API request, by shape (a `Request`, a `NextRequest`, Hono's `c.req`). */
export interface FetchBodySource {
  arrayBuffer(): Promise<ArrayBuffer>;
}

export function limitOf(opts: FetchWebhookOptions): number {
  const limit = opts.limitBytes ?? 1024 * 1024;
  if (!Number.isInteger(limit) || limit < 1) throw new TypeError("limitBytes must be a whole number ≥ 1");
  return limit;
}

/**
 * Reads the raw body and verifies it. Throws {@link WebhookVerificationError}
 * or {@link PayloadTooLarge}.
 */
export async function verifyFetchRequest<T>(
  body: FetchBodySource,
  headers: HeaderSource,
  secret: string | readonly string[],
  opts: FetchWebhookOptions,
  limit: number,
): Promise<VerifiedWebhook<T>> {
  const declared = Number(headerValue(headers, "content-length"));
  if (declared > limit) throw new PayloadTooLarge(limit);
  const raw = new Uint8Array(await body.arrayBuffer());
  if (raw.byteLength > limit) throw new PayloadTooLarge(limit);
  const { limitBytes: _, ...verifyOptions } = opts;
  return verifyWebhookDetailed<T>(raw, headers, secret, verifyOptions);
}

/**
 * The default answer to a rejected webhook: the error's `status` (401, 400 for
 * a body that is not JSON, 413 for one too large) with a JSON `{code, message}`.
 * A receiver's own bad secret (`invalid_secret`) and unexpected errors are
 * rethrown, for the framework's error handling to log.
 */
export function rejection(err: unknown): Response {
  if (err instanceof PayloadTooLarge) return json(413, { code: "payload_too_large", message: err.message });
  if (err instanceof WebhookVerificationError && err.code !== "invalid_secret") {
    return json(err.status, { code: err.code, message: err.message });
  }
  throw err;
}

function json(status: number, body: object): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}
