import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { ConfigError } from "../core/errors.js";

/**
 * Encryption at rest of endpoint secrets and credentials: AES-256-GCM with a
 * random 96-bit nonce per value, bound to its row by associated data (the
 * endpoint id), so a ciphertext copied into another row does not decrypt.
 *
 * A stored value reads `enc:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`.
 * The key id is derived from the key (8 hex digits of an HMAC), so a value
 * names the key that opens it and rotation needs no bookkeeping. A value
 * without the prefix is plain text written before a key was configured.
 */

export const ENCRYPTED_PREFIX = "enc:v1:";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** The keys of `HERALD_ENCRYPTION_KEY`: the first encrypts, all decrypt. */
export interface KeyRing {
  primary: EncryptionKey;
  byId: ReadonlyMap<string, EncryptionKey>;
}

const FORM = "expected one or more comma-separated 32-byte keys, each as 64 hex digits or base64 (openssl rand -base64 32)";

/** Parses `HERALD_ENCRYPTION_KEY`; throws a ConfigError naming the variable and the accepted form. */
export function parseKeyRing(value: string): KeyRing {
  const parts = value.split(",").map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new ConfigError(`HERALD_ENCRYPTION_KEY: ${FORM}`);
  const keys = parts.map((part, i) => {
    const key = /^[0-9a-f]{64}$/i.test(part)
      ? Buffer.from(part, "hex")
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(part)
        ? Buffer.from(part.replace(/-/g, "+").replace(/_/g, "/"), "base64")
        : undefined;
    if (key?.length !== 32) throw new ConfigError(`HERALD_ENCRYPTION_KEY: key ${i + 1} is not valid; ${FORM}`);
    return { id: createHmac("sha256", key).update("herald key id").digest("hex").slice(0, 8), key };
  });
  const byId = new Map<string, EncryptionKey>();
  for (const k of keys) {
    if (byId.has(k.id)) throw new ConfigError(`HERALD_ENCRYPTION_KEY: the same key is listed twice`);
    byId.set(k.id, k);
  }
  return { primary: keys[0]!, byId };
}

export const isEncrypted = (value: string): boolean => value.startsWith(ENCRYPTED_PREFIX);

/** The id of the key that encrypted `value`, or null for plain text. */
export function keyIdOf(value: string): string | null {
  if (!isEncrypted(value)) return null;
  return value.slice(ENCRYPTED_PREFIX.length, value.indexOf(":", ENCRYPTED_PREFIX.length));
}

export function encrypt(ring: KeyRing, plaintext: string, aad: string): string {
  const { id, key } = ring.primary;
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([nonce, cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `${ENCRYPTED_PREFIX}${id}:${body.toString("base64url")}`;
}

/** Why a stored value cannot be read. */
export class DecryptionError extends Error {
  override name = "DecryptionError";
  readonly code = "ERR_DECRYPTION";
}

/** Plain text passes through (rows written before encryption was turned on). */
export function decrypt(ring: KeyRing, value: string, aad: string): string {
  if (!isEncrypted(value)) return value;
  const id = keyIdOf(value)!;
  const key = ring.byId.get(id);
  if (!key) {
    throw new DecryptionError(`a value of ${aad} is encrypted with key ${id}, which HERALD_ENCRYPTION_KEY does not list`);
  }
  const body = Buffer.from(value.slice(ENCRYPTED_PREFIX.length + id.length + 1), "base64url");
  if (body.length < NONCE_BYTES + TAG_BYTES) throw new DecryptionError(`a value of ${aad} is truncated`);
  try {
    const decipher = createDecipheriv("aes-256-gcm", key.key, body.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    return Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  } catch {
    throw new DecryptionError(`a value of ${aad} does not decrypt with key ${id} (altered, or copied from another row)`);
  }
}
