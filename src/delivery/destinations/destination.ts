import type { AttemptErrorKind } from "../../store/model.js";
import type { OAuth2Request } from "../oauth2.js";

/**
 * One attempt, prepared by the dispatcher: everything is decided already
 * (signed, headed, timed); a destination only carries it. The same for every
 * destination, so signing, retries, the attempt log, leases, fencing and FIFO
 * are never a destination's business.
 */
export interface PreparedAttempt {
  /** The endpoint's URL (or the one its transformation chose); its scheme chose the destination. */
  url: URL;
  /** The HTTP method: `POST` unless the endpoint's transformation chose `PUT` or `PATCH`. Destinations without methods ignore it. */
  method?: string | undefined;
  /** The headers of contract §4 (signatures, ids, `traceparent` when tracing is on, static credentials): HTTP headers, or a message's headers/properties. */
  headers: Record<string, string>;
  /**
   * The message's payload, the exact bytes stored at publish: the same on
   * every attempt and to every endpoint; for an endpoint with a
   * transformation, the JSON of the payload its handler returned (signed as such).
   */
  body: string;
  /** The whole attempt (connect, send, answer) ends by then; a late answer is a `timeout`. */
  timeoutMs: number;
  /** The endpoint authenticates with OAuth 2.0 client credentials: the destination adds a cached token. */
  oauth2?: OAuth2Request | undefined;
}

/** What one attempt came to: exactly what the attempt log records (`outcome.ts` turns it into a transition). */
export interface SendResult {
  ok: boolean;
  /** The receiver's HTTP status; null when no HTTP answer came (or the destination has none). */
  statusCode: number | null;
  headers: Record<string, string> | null;
  /** First `RESPONSE_BODY_LIMIT` bytes of the answer, decoded as UTF-8. */
  body: string | null;
  errorKind: AttemptErrorKind | null;
  errorMessage: string | null;
  durationMs: number;
}

/** Bytes of an answer kept in the attempt log. */
export const RESPONSE_BODY_LIMIT = 4096;

/**
 * Where attempts go: HTTP today (`http.ts`), brokers later, picked by the
 * URL's scheme (`index.ts`). A destination never throws for a failed
 * delivery: refused, reset, timed out, blocked by the SSRF guard, all are a
 * `SendResult` with `ok: false` and an `errorKind` (a throw is recorded as
 * Herald's own fault, `internal`).
 *
 * @example
 * const result = await destination.send({ url: new URL("https://example.com/hook"), headers, body, timeoutMs: 30_000 });
 * if (!result.ok) console.log(result.errorKind, result.errorMessage);
 */
export interface Destination {
  send(attempt: PreparedAttempt): Promise<SendResult>;
  /** Closes its connections; with `abort`, attempts still running are cut off (the stop deadline passed). Idempotent. */
  close(abort?: boolean): Promise<void>;
}

/** A failed attempt that got no answer. */
export function failedResult(kind: AttemptErrorKind, message: string, durationMs: number): SendResult {
  return { ok: false, statusCode: null, headers: null, body: null, errorKind: kind, errorMessage: message, durationMs };
}
