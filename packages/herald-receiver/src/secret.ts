import { WebhookVerificationError } from "./errors.js";

const PREFIX = "whsec_";
// Standard base64, padding optional: what Svix, Standard Webhooks and Herald hand out.
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function invalidSecret(message: string): WebhookVerificationError {
  return new WebhookVerificationError("invalid_secret", message);
}

/**
 * The secrets as a non-empty list, rejecting the ones no scheme can use
 * (`""`, a bare `whsec_`). Messages never quote the secret.
 */
export function secretList(secret: string | readonly string[]): string[] {
  const list = typeof secret === "string" ? [secret] : [...secret];
  if (list.length === 0) throw invalidSecret("no secret given");
  for (const s of list) {
    if (typeof s !== "string" || s.trim() === "" || s === PREFIX) {
      throw invalidSecret("a webhook secret is empty");
    }
  }
  return list;
}

/**
 * The Standard Webhooks key: the base64-decoded part after `whsec_` (the
 * prefix is optional, as in the Standard Webhooks libraries).
 *
 * @example standardKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").length // 24
 */
export function standardKey(secret: string): Buffer {
  const body = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  if (!BASE64.test(body)) {
    throw invalidSecret("a webhook secret is not whsec_ followed by base64 (is it the endpoint's secret?)");
  }
  const key = Buffer.from(body, "base64");
  if (key.length === 0) throw invalidSecret("a webhook secret decodes to no bytes");
  return key;
}

/**
 * The seeds' `x-webhook-signature` key: the UTF-8 bytes of the whole secret
 * string, prefix included, exactly as the seed snippets use it.
 */
export function seedKey(secret: string): Buffer {
  return Buffer.from(secret, "utf8");
}
