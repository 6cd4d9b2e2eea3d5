import type { VerifiedWebhook } from "./verify.js";

/** A request object that a framework helper of `herald-receiver` has verified. */
export interface WithWebhook<T = unknown> {
  /** The verified webhook: metadata and parsed payload (also in `body`). */
  webhook: VerifiedWebhook<T>;
}

/**
 * The verified webhook that `webhookMiddleware` (Express, Connect, plain
 * Node) or `fastifyWebhooks` attached to a request, typed. Throws when the
 * request did not pass through one of them: a route wired without its
 * verifier fails loudly instead of trusting an unverified body.
 *
 * @example
 * app.post("/webhooks", webhookMiddleware(secret), (req, res) => {
 *   const { id, eventType, payload } = verifiedWebhook<OrderEvent>(req);
 *   res.sendStatus(204);
 * });
 */
export function verifiedWebhook<T = unknown>(req: object): VerifiedWebhook<T> {
  const hook = (req as Partial<WithWebhook<T>>).webhook;
  if (hook === undefined || hook === null || typeof hook !== "object") {
    throw new Error("this request was not verified: put webhookMiddleware (or fastifyWebhooks) in front of the route");
  }
  return hook;
}
