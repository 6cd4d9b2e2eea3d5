import { randomBytes } from "node:crypto";

export const SECRET_PREFIX = "whsec_";
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
/** How long a rotated-out secret keeps signing (contract §3: both sign for 24 h). */
export const ROTATION_OVERLAP_MS = 24 * 3_600_000;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** A new endpoint secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(bytes = 32): string {
  return SECRET_PREFIX + randomBytes(bytes).toString("base64");
}

/**
 * Why a user-given secret is unacceptable, or `undefined` when it is fine:
 * it must be `whsec_` followed by base64 of 24–64 bytes.
 */
export function secretProblem(secret: string): string | undefined {
  if (!secret.startsWith(SECRET_PREFIX)) return `must start with "${SECRET_PREFIX}"`;
  const body = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(body) || body.length % 4 !== 0) return "must be whsec_ followed by standard base64";
  const n = Buffer.from(body, "base64").length;
  if (n < MIN_SECRET_BYTES || n > MAX_SECRET_BYTES) {
    return `must encode ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} bytes (this one has ${n})`;
  }
  return undefined;
}

/** The key bytes used by Standard Webhooks: the base64-decoded part after the prefix. */
export function secretKeyBytes(secret: string): Buffer {
  const body = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(body, "base64");
}

/**
 * Whether a secret is usable by both schemes of a delivery: `whsec_` followed
 * by base64 (padding optional, as receivers accept it) of at least one byte.
 * Looser than {@link secretProblem}, which also bounds the length: what the
 * CLI's `listen` and `send` accept from the command line.
 */
export function isEndpointSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false;
  const body = secret.slice(SECRET_PREFIX.length);
  return BASE64.test(body) && Buffer.from(body, "base64").length > 0;
}

/** How reads of an endpoint show its secret: `whsec_abcd…`. */
export function maskSecret(secret: string): string {
  return `${secret.slice(0, SECRET_PREFIX.length + 4)}…`;
}
