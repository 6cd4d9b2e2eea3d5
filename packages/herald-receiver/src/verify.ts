import { createHmac, timingSafeEqual } from "node:crypto";
import { WebhookVerificationError } from "./errors.js";
import { type HeaderSource, headerValue } from "./headers.js";
import { secretList, seedKey, standardKey } from "./secret.js";

/** The header scheme a webhook was verified with. */
export type WebhookScheme = "standard" | "seed";

export interface VerifyOptions {
  /**
   * Largest distance, in seconds, between `webhook-timestamp` and the clock,
   * in either direction (replay protection of the Standard Webhooks scheme).
   * Default: 300.
   */
  toleranceSeconds?: number;
  /** The clock, in milliseconds since the epoch (like `Date.now`). Default: `Date.now`. */
  now?: () => number;
  /**
   * Which headers to accept. `"standard"`: `webhook-id`, `webhook-timestamp`,
   * `webhook-signature`. `"seed"`: `x-webhook-signature` only. `"auto"`: the
   * Standard Webhooks headers whenever any of them is present, else
   * `x-webhook-signature`. The seed scheme signs no timestamp, so a captured
   * request can be replayed; when the sender is Herald, `"standard"` is the
   * safer choice. Default: `"auto"`.
   */
  scheme?: "standard" | "seed" | "auto";
}

/** What a verified request says about itself besides its payload. */
export interface WebhookMetadata {
  scheme: WebhookScheme;
  /**
   * The message id, the same on every retry: the receiver's idempotency key.
   * Signed under `"standard"` (`webhook-id`); under `"seed"` it is read from
   * `x-webhook-id` (or `webhook-id`) and is not covered by the signature.
   */
  id: string | undefined;
  /** `webhook-timestamp` (Unix seconds) under `"standard"`; undefined under `"seed"`. */
  timestamp: number | undefined;
  /** `x-webhook-event`. Not covered by either signature: trust the payload's own type field for decisions. */
  eventType: string | undefined;
  /** `x-webhook-attempt` (1, 2, 3, …). Not covered by either signature. */
  attempt: number | undefined;
}

/** A verified webhook: its metadata and its parsed JSON payload. */
export interface VerifiedWebhook<T = unknown> extends WebhookMetadata {
  payload: T;
}

const STANDARD_HEADERS = ["webhook-id", "webhook-timestamp", "webhook-signature"] as const;
const TIMESTAMP = /^\d{1,15}$/;

function bodyBytes(rawBody: string | Buffer | Uint8Array): Buffer {
  if (typeof rawBody === "string") return Buffer.from(rawBody, "utf8");
  if (rawBody instanceof Uint8Array) return Buffer.from(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength);
  // The usual cause: a JSON body parser ran first and the raw bytes are gone.
  throw new TypeError(
    "verifyWebhook needs the raw request body as a string or Buffer; got " +
      (rawBody === null ? "null" : typeof rawBody) +
      " (was the body already parsed as JSON? signatures cover the exact bytes sent)",
  );
}

function resolveOptions(opts: VerifyOptions): Required<VerifyOptions> {
  // `??` rather than a spread, so an explicit `undefined` still means "default".
  const resolved: Required<VerifyOptions> = {
    toleranceSeconds: opts.toleranceSeconds ?? 300,
    now: opts.now ?? Date.now,
    scheme: opts.scheme ?? "auto",
  };
  if (!Number.isFinite(resolved.toleranceSeconds) || resolved.toleranceSeconds < 0) {
    throw new TypeError("toleranceSeconds must be a finite number ≥ 0");
  }
  if (!["standard", "seed", "auto"].includes(resolved.scheme)) {
    throw new TypeError('scheme must be "standard", "seed" or "auto"');
  }
  return resolved;
}

function pickScheme(headers: HeaderSource, wanted: VerifyOptions["scheme"]): WebhookScheme {
  if (wanted === "standard" || wanted === "seed") return wanted;
  // Any Standard Webhooks header commits to that scheme: stripping one of them
  // must not downgrade a request to the timestamp-less seed scheme.
  if (STANDARD_HEADERS.some((name) => headerValue(headers, name) !== undefined)) return "standard";
  if (headerValue(headers, "x-webhook-signature") !== undefined) return "seed";
  throw new WebhookVerificationError(
    "missing_headers",
    "no signature headers: expected webhook-id, webhook-timestamp and webhook-signature (or x-webhook-signature)",
  );
}

/** Constant-time equality; unequal lengths are a mismatch, not an exception. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The `v1` signatures of a `webhook-signature` value. Entries are separated by
 * spaces; a trailing comma is dropped because Node folds repeated headers as
 * `v1,a, v1,b`. Other versions (`v1a`, asymmetric) are ignored.
 */
function v1Signatures(header: string): Buffer[] {
  const out: Buffer[] = [];
  for (let token of header.split(/\s+/)) {
    if (token.endsWith(",")) token = token.slice(0, -1);
    const comma = token.indexOf(",");
    if (comma > 0 && token.slice(0, comma) === "v1") out.push(Buffer.from(token.slice(comma + 1), "utf8"));
  }
  return out;
}

function verifyStandard(body: Buffer, headers: HeaderSource, secrets: string[], opts: Required<VerifyOptions>): WebhookMetadata {
  const keys = secrets.map(standardKey);
  const id = headerValue(headers, "webhook-id");
  const timestamp = headerValue(headers, "webhook-timestamp");
  const signature = headerValue(headers, "webhook-signature", " ");
  if (id === undefined || timestamp === undefined || signature === undefined) {
    const missing = STANDARD_HEADERS.filter((name) => headerValue(headers, name) === undefined);
    throw new WebhookVerificationError("missing_headers", `missing header ${missing.join(", ")}`);
  }
  if (!TIMESTAMP.test(timestamp)) {
    throw new WebhookVerificationError("invalid_timestamp", "webhook-timestamp is not a whole number of Unix seconds");
  }
  const seconds = Number(timestamp);
  const nowSeconds = Math.floor(opts.now() / 1000);
  if (nowSeconds - seconds > opts.toleranceSeconds) {
    throw new WebhookVerificationError("timestamp_too_old", `webhook-timestamp is more than ${opts.toleranceSeconds} s in the past`);
  }
  if (seconds - nowSeconds > opts.toleranceSeconds) {
    throw new WebhookVerificationError("timestamp_too_new", `webhook-timestamp is more than ${opts.toleranceSeconds} s in the future`);
  }
  const candidates = v1Signatures(signature);
  for (const key of keys) {
    const mac = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
    const expected = Buffer.from(mac, "utf8");
    // No early exit on a match: the work done does not depend on which entry matched.
    let matched = false;
    for (const candidate of candidates) matched = sameBytes(candidate, expected) || matched;
    if (matched) return metadata(headers, "standard", id, seconds);
  }
  throw new WebhookVerificationError("invalid_signature", "no webhook-signature entry matches the secret");
}

function verifySeed(body: Buffer, headers: HeaderSource, secrets: string[]): WebhookMetadata {
  const signature = headerValue(headers, "x-webhook-signature");
  if (signature === undefined) throw new WebhookVerificationError("missing_headers", "missing header x-webhook-signature");
  const provided = Buffer.from(signature.trim().toLowerCase(), "utf8");
  for (const secret of secrets) {
    const expected = Buffer.from(createHmac("sha256", seedKey(secret)).update(body).digest("hex"), "utf8");
    if (sameBytes(provided, expected)) {
      const id = headerValue(headers, "x-webhook-id") ?? headerValue(headers, "webhook-id");
      return metadata(headers, "seed", id, undefined);
    }
  }
  throw new WebhookVerificationError("invalid_signature", "x-webhook-signature does not match the secret");
}

function metadata(headers: HeaderSource, scheme: WebhookScheme, id: string | undefined, timestamp: number | undefined): WebhookMetadata {
  const attempt = Number(headerValue(headers, "x-webhook-attempt"));
  return {
    scheme,
    id,
    timestamp,
    eventType: headerValue(headers, "x-webhook-event"),
    attempt: Number.isInteger(attempt) && attempt > 0 ? attempt : undefined,
  };
}

/**
 * Checks the signature only and returns the request's metadata, without
 * parsing the body: for receivers whose bodies are not JSON, or that parse
 * them their own way. Throws {@link WebhookVerificationError}.
 *
 * @example
 * const meta = verifyWebhookSignature(rawBody, req.headers, process.env.WEBHOOK_SECRET!);
 * meta.id; // "msg_01J…"
 */
export function verifyWebhookSignature(
  rawBody: string | Uint8Array,
  headers: HeaderSource,
  secret: string | readonly string[],
  opts: VerifyOptions = {},
): WebhookMetadata {
  const options = resolveOptions(opts);
  const body = bodyBytes(rawBody);
  const secrets = secretList(secret);
  const scheme = pickScheme(headers, options.scheme);
  return scheme === "standard" ? verifyStandard(body, headers, secrets, options) : verifySeed(body, headers, secrets);
}

/**
 * Verifies a webhook and returns its metadata (scheme, id, timestamp, event
 * type, attempt) with the parsed payload. Throws {@link WebhookVerificationError}.
 *
 * @example
 * const hook = verifyWebhookDetailed<{ orderId: string }>(rawBody, req.headers, secret);
 * if (await alreadySeen(hook.id)) return res.sendStatus(200);
 * queue.push(hook.payload.orderId);
 */
export function verifyWebhookDetailed<T = unknown>(
  rawBody: string | Uint8Array,
  headers: HeaderSource,
  secret: string | readonly string[],
  opts: VerifyOptions = {},
): VerifiedWebhook<T> {
  const meta = verifyWebhookSignature(rawBody, headers, secret, opts);
  // Parsed only after the signature holds: unauthenticated input is never parsed.
  const text = typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8");
  let payload: T;
  try {
    payload = JSON.parse(text) as T;
  } catch {
    throw new WebhookVerificationError("invalid_payload", "the body is signed but is not JSON");
  }
  return { ...meta, payload };
}

/**
 * Verifies a webhook sent by Herald (or any Standard Webhooks sender) and
 * returns its parsed JSON payload. Pass the raw body exactly as received, the
 * request headers, and the endpoint secret (or several during a rotation).
 * Comparisons are constant-time. Throws {@link WebhookVerificationError} with a
 * stable `code`.
 *
 * @example
 * import { verifyWebhook } from "herald-receiver";
 * const event = verifyWebhook(rawBody, req.headers, process.env.WEBHOOK_SECRET!);
 */
export function verifyWebhook<T = unknown>(
  rawBody: string | Uint8Array,
  headers: HeaderSource,
  secret: string | readonly string[],
  opts: VerifyOptions = {},
): T {
  return verifyWebhookDetailed<T>(rawBody, headers, secret, opts).payload;
}
