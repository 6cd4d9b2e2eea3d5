import { boundedMemo } from "../core/memo.js";
import { type Signer, signatureHeaders, signer } from "../signing/sign.js";
import type { Endpoint } from "../store/model.js";
import type { DeliveryJob } from "../store/store.js";
import { VERSION } from "../version.js";
import type { OAuth2Request } from "./oauth2.js";

export const USER_AGENT = `Herald/${VERSION}`;

/**
 * Signers by secret string. Deriving keys is cheap but not free; an endpoint's
 * secret changes rarely, so this cache is bounded and rebuilt on demand.
 */
const signerFor = boundedMemo(10_000, signer);

/** The secrets that sign now: the newest first, then the previous one while its overlap lasts. */
export function activeSigners(endpoint: Endpoint, now: number): Signer[] {
  const list = [signerFor(endpoint.secret)];
  if (endpoint.previousSecret && (endpoint.previousSecretExpiresAt ?? 0) > now) list.push(signerFor(endpoint.previousSecret));
  return list;
}

/** What the HTTP destination needs to add an OAuth 2.0 token to an endpoint's attempts; undefined for other endpoints. */
export function oauth2Request(endpoint: Endpoint): OAuth2Request | undefined {
  const auth = endpoint.authentication;
  return auth?.type === "oauth2" ? { key: endpoint.id, credentials: auth } : undefined;
}

/** Static credentials become headers; oauth2 tokens are added by the destination (`oauth2Request`). */
export function authenticationHeaders(endpoint: Endpoint): Record<string, string> {
  const auth = endpoint.authentication;
  if (!auth) return {};
  switch (auth.type) {
    case "bearer":
      return { authorization: `Bearer ${auth.token}` };
    case "basic":
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` };
    case "header":
      return { [auth.name.toLowerCase()]: auth.value };
    default:
      return {};
  }
}

/**
 * The headers of one attempt, per the wire contract: Herald's own headers win
 * over an endpoint's custom ones, which cannot spoof signatures or ids.
 * `traceparent` (W3C Trace Context) is the attempt span's, sent only when
 * tracing is on; then it also replaces an endpoint's custom one.
 * With a `transformed` request (the endpoint's transformation ran), its
 * headers take the place of the endpoint's custom ones, its body is what is
 * signed, and its event type is the one announced.
 */
export function attemptHeaders(
  job: DeliveryJob,
  attemptNumber: number,
  now: number,
  traceparent?: string | null,
  transformed?: { headers: Record<string, string>; body: string; eventType: string },
): Record<string, string> {
  const { endpoint, message } = job;
  const timestamp = Math.floor(now / 1000);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(transformed?.headers ?? endpoint.headers)) headers[k.toLowerCase()] = v;
  Object.assign(headers, authenticationHeaders(endpoint), {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    ...signatureHeaders(activeSigners(endpoint, now), message.id, timestamp, transformed?.body ?? message.payload),
    "x-webhook-event": transformed?.eventType ?? message.eventType,
    "x-webhook-id": message.id,
    "x-webhook-attempt": String(attemptNumber),
  });
  if (traceparent) {
    headers.traceparent = traceparent;
    delete headers.tracestate; // an endpoint's custom one belongs to no trace of ours
  }
  return headers;
}
