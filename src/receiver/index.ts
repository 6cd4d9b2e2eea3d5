/**
 * `herald/receiver`: the `herald-receiver` package (packages/herald-receiver),
 * re-exported for code written against Herald itself. Its main entry plus
 * the Express and Fastify adapters, as this module has always offered them.
 * Receiving services should install `herald-receiver` instead: no
 * dependencies, no native build (docs/receiving.md).
 *
 * @example
 * import { verifyWebhook } from "herald/receiver";
 * const event = verifyWebhook(rawBody, req.headers, process.env.WEBHOOK_SECRET!);
 */
export * from "herald-receiver";
export { type MiddlewareRequest, type NextFunction, type WebhookMiddlewareOptions, webhookMiddleware } from "herald-receiver/express";
export { type FastifyWebhooksOptions, fastifyWebhooks, rawJsonParser, webhookPreHandler } from "herald-receiver/fastify";
export { verifiedWebhook, type WithWebhook } from "herald-receiver/express";
