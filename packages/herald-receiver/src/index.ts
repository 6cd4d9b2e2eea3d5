/**
 * `herald-receiver`: verify the webhooks Herald sends, and handle each one once.
 * No dependencies, no native code; ESM and CommonJS.
 *
 * - {@link verifyWebhook} / {@link verifyWebhookDetailed} / {@link verifyWebhookSignature}:
 *   verify the Standard Webhooks headers (`webhook-*`) or the seeds'
 *   `x-webhook-signature` against the raw body, in constant time.
 * - {@link createDeduplicator} with a pluggable {@link IdempotencyStore}: handle
 *   each `webhook-id` once.
 * - Framework adapters, each its own entry that loads no framework:
 *   `herald-receiver/express`, `/fastify`, `/hono`, `/next`.
 *
 * Guide: docs/receiving.md.
 *
 * @example
 * import { verifyWebhook } from "herald-receiver";
 * const event = verifyWebhook(rawBody, req.headers, process.env.WEBHOOK_SECRET!);
 */
export { WebhookVerificationError, type WebhookVerificationErrorCode } from "./errors.js";
export type { HeaderSource } from "./headers.js";
export {
  createDeduplicator,
  type DedupOutcome,
  type Deduplicator,
  type DeduplicatorOptions,
  type IdempotencyStore,
  MemoryIdempotencyStore,
  type MemoryIdempotencyStoreOptions,
} from "./idempotency.js";
export {
  type VerifiedWebhook,
  type VerifyOptions,
  verifyWebhook,
  verifyWebhookDetailed,
  verifyWebhookSignature,
  type WebhookMetadata,
  type WebhookScheme,
} from "./verify.js";
