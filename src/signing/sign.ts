import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { secretKeyBytes } from "./secret.js";

/**
 * A signer prepared once per endpoint secret: the HMAC keys are derived at
 * construction, as key objects (an HMAC keyed by one is about a fifth cheaper
 * to set up than one keyed by bytes), so the hot path only hashes.
 */
export interface Signer {
  /** The secret as the API shows it (`whsec_…`). */
  readonly secret: string;
  readonly standardKey: KeyObject;
  readonly seedKey: KeyObject;
}

export function signer(secret: string): Signer {
  return { secret, standardKey: createSecretKey(secretKeyBytes(secret)), seedKey: createSecretKey(Buffer.from(secret, "utf8")) };
}

/**
 * Standard Webhooks v1: base64 HMAC-SHA256 over `{id}.{timestamp}.{body}`,
 * keyed by the base64-decoded secret. Returns `v1,<base64>`.
 */
export function signStandard(key: Buffer | KeyObject, id: string, timestamp: number, body: string): string {
  const mac = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
  return `v1,${mac}`;
}

/**
 * The seeds' scheme (`X-Webhook-Signature`): lowercase hex HMAC-SHA256 of the
 * raw body, keyed by the UTF-8 bytes of the whole `whsec_…` string, so the seed's
 * Node, Python and PHP snippets verify it unchanged.
 */
export function signSeed(key: Buffer | KeyObject, body: string): string {
  return createHmac("sha256", key).update(body).digest("hex");
}

export interface SignatureHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
  "x-webhook-signature": string;
}

/**
 * Both signature headers for one attempt. `signers[0]` is the newest secret;
 * during a rotation overlap the older ones add their Standard Webhooks
 * signatures (space-separated) while `x-webhook-signature` uses the newest only.
 */
export function signatureHeaders(
  signers: readonly Signer[],
  id: string,
  timestamp: number,
  body: string,
): SignatureHeaders {
  const newest = signers[0];
  if (!newest) throw new Error("signatureHeaders needs at least one secret");
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signers.map((s) => signStandard(s.standardKey, id, timestamp, body)).join(" "),
    "x-webhook-signature": signSeed(newest.seedKey, body),
  };
}
