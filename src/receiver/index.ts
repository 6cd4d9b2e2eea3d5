/**
 * `herald/receiver`: everything a service needs to receive Herald webhooks.
 *
 * - {@link verifyWebhook} / {@link verifyWebhookDetailed} / {@link verifyWebhookSignature}:
 *   verify the Standard Webhooks headers (`webhook-*`) or the seeds'
 *   `x-webhook-signature` against the raw body, in constant time.
 * - {@link webhookMiddleware} (Express, Connect, plain Node) and
 *   {@link fastifyWebhooks} / {@link webhookPreHandler} (Fastify).
 * - {@link createDeduplicator} with a pluggable {@link IdempotencyStore}: handle
 *   each `webhook-id` once.
 *
 * Guide: docs/receiving.md.
 *
 * @example
 * import { verifyWebhook } from "herald/receiver";
 * const event = verifyWebhook(rawBody, req.headers, process.env.WEBHOOK_SECRET!);
 */
export { WebhookVerificationError, type WebhookVerificationErrorCode } from "./errors.js";
export { type MiddlewareRequest, type NextFunction, type WebhookMiddlewareOptions, webhookMiddleware } from "./express.js";
export { type FastifyWebhooksOptions, fastifyWebhooks, rawJsonParser, webhookPreHandler } from "./fastify.js";
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
export { verifiedWebhook, type WithWebhook } from "./request.js";
export {
  type VerifiedWebhook,
  type VerifyOptions,
  verifyWebhook,
  verifyWebhookDetailed,
  verifyWebhookSignature,
  type WebhookMetadata,
  type WebhookScheme,
} from "./verify.js";
