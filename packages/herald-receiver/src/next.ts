import { WebhookVerificationError } from "./errors.js";
import { type FetchWebhookOptions, limitOf, rejection, verifyFetchRequest } from "./fetch.js";
import type { VerifiedWebhook } from "./verify.js";

export type { FetchWebhookOptions } from "./fetch.js";

/**
 * A route handler's request, by shape: the Fetch API `Request` (and so
 * Next.js's `NextRequest`). Nothing from next is imported.
 */
export interface RouteRequest {
  headers: Headers;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface WithWebhookOptions extends FetchWebhookOptions {
  /**
   * Answers a rejected webhook instead of the default, which is the error's
   * `status` (401, or 400 for a body that is not JSON) with a JSON
   * `{code, message}`. A receiver's own bad secret (`invalid_secret`) is thrown
   * instead (a logged 500).
   */
  onError?: (err: WebhookVerificationError, request: RouteRequest) => Response | Promise<Response>;
}

/**
 * Reads a route handler's request body and verifies it: the verified webhook,
 * or a thrown {@link WebhookVerificationError}. For handlers that answer
 * rejections themselves; {@link withWebhook} does it for you.
 *
 * @example
 * const hook = await verifyRequest<OrderEvent>(request, process.env.WEBHOOK_SECRET!);
 */
export async function verifyRequest<T = unknown>(
  request: RouteRequest,
  secret: string | readonly string[],
  opts: FetchWebhookOptions = {},
): Promise<VerifiedWebhook<T>> {
  return verifyFetchRequest<T>(request, request.headers, secret, opts, limitOf(opts));
}

/**
 * Wraps a Next.js App Router route handler (or any `(Request) => Response`
 * handler) so that it runs only for a verified Herald webhook, and gets it as
 * its first argument. A rejected webhook is answered with 401 (400 for a body
 * that is not JSON, 413 for one over `limitBytes`). Runs on the Node.js
 * runtime (it uses `node:crypto`), Next's default for route handlers.
 *
 * @example
 * // app/webhooks/herald/route.ts
 * import { withWebhook } from "herald-receiver/next";
 *
 * export const POST = withWebhook(process.env.WEBHOOK_SECRET!, async (hook) => {
 *   await jobs.enqueue(hook.eventType, hook.payload);
 *   return new Response(null, { status: 204 });
 * });
 */
export function withWebhook<T = unknown, R extends RouteRequest = RouteRequest, C = unknown>(
  secret: string | readonly string[],
  handler: (hook: VerifiedWebhook<T>, request: R, context: C) => Response | Promise<Response>,
  opts: WithWebhookOptions = {},
): (request: R, context: C) => Promise<Response> {
  const limit = limitOf(opts);
  const { onError, ...verifyOptions } = opts;
  return async (request, context) => {
    let hook: VerifiedWebhook<T>;
    try {
      hook = await verifyFetchRequest<T>(request, request.headers, secret, verifyOptions, limit);
    } catch (err) {
      if (onError && err instanceof WebhookVerificationError && err.code !== "invalid_secret") return onError(err, request);
      return rejection(err);
    }
    return handler(hook, request, context);
  };
}
