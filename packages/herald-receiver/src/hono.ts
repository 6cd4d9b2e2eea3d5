import { WebhookVerificationError } from "./errors.js";
import { type FetchWebhookOptions, limitOf, rejection, verifyFetchRequest } from "./fetch.js";
import type { VerifiedWebhook } from "./verify.js";

export type { FetchWebhookOptions } from "./fetch.js";

/**
 * The part of Hono's `Context` the middleware uses, by shape: nothing from
 * hono is imported. `c.req.arrayBuffer()` is Hono's cached body read, so a
 * handler may still call `c.req.json()` after the middleware.
 */
export interface HonoContextLike {
  req: {
    raw: { headers: Headers };
    arrayBuffer(): Promise<ArrayBuffer>;
  };
}

export interface HonoWebhookOptions extends FetchWebhookOptions {
  /**
   * Answers a rejected webhook instead of the default, which is the error's
   * `status` (401, or 400 for a body that is not JSON) with a JSON
   * `{code, message}`. A receiver's own bad secret (`invalid_secret`) is thrown
   * instead, to Hono's error handler.
   */
  onError?: (err: WebhookVerificationError, c: HonoContextLike) => Response | Promise<Response>;
}

// Keyed by the request object, which lives exactly as long as the request.
const verified = new WeakMap<object, VerifiedWebhook>();

/**
 * Hono middleware that verifies a Herald webhook against the raw body and
 * then calls the route; read the result with {@link verifiedWebhook}. A
 * rejected webhook is answered with 401 (400 for a body that is not JSON, 413
 * for one over `limitBytes`) and never reaches the route.
 *
 * @example
 * import { Hono } from "hono";
 * import { honoWebhooks, verifiedWebhook } from "herald-receiver/hono";
 *
 * const app = new Hono();
 * app.post("/webhooks/herald", honoWebhooks(process.env.WEBHOOK_SECRET!), (c) => {
 *   const hook = verifiedWebhook(c);
 *   console.log(hook.eventType, hook.id, hook.payload);
 *   return c.body(null, 204);
 * });
 */
export function honoWebhooks(
  secret: string | readonly string[],
  opts: HonoWebhookOptions = {},
): (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | undefined> {
  const limit = limitOf(opts);
  const { onError, ...verifyOptions } = opts;
  return async (c, next) => {
    let hook: VerifiedWebhook;
    try {
      hook = await verifyFetchRequest(c.req, c.req.raw.headers, secret, verifyOptions, limit);
    } catch (err) {
      if (onError && err instanceof WebhookVerificationError && err.code !== "invalid_secret") return onError(err, c);
      return rejection(err);
    }
    verified.set(c.req.raw, hook);
    await next();
    return undefined;
  };
}

/**
 * The webhook that {@link honoWebhooks} verified for this request, typed.
 * Throws when the route has no `honoWebhooks` in front of it, so a route
 * wired without its verifier fails loudly instead of trusting the body.
 */
export function verifiedWebhook<T = unknown>(c: HonoContextLike): VerifiedWebhook<T> {
  const hook = verified.get(c.req.raw);
  if (hook === undefined) throw new Error("this request was not verified: put honoWebhooks(secret) in front of the route");
  return hook as VerifiedWebhook<T>;
}
