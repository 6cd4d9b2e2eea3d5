import { WebhookVerificationError } from "./errors.js";
import type { WithWebhook } from "./request.js";
import { type VerifyOptions, verifyWebhookDetailed } from "./verify.js";

export { verifiedWebhook, type WithWebhook } from "./request.js";

// Fastify's objects by shape: this module imports nothing from fastify, not even
// its types, so the package installs without it. Method syntax keeps Fastify's
// own (overloaded, generic) methods assignable to these.

/** The part of a `FastifyRequest` the pre-handler uses. */
export interface FastifyRequestLike {
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

/** The part of a `FastifyReply` the pre-handler uses. */
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/** The part of a `FastifyInstance` (a scope) the plugin uses. */
export interface FastifyInstanceLike {
  removeContentTypeParser(contentType: string): unknown;
  addContentTypeParser(
    contentType: string,
    opts: { parseAs: "buffer" },
    parser: (request: never, body: never, done: (err: Error | null, body?: unknown) => void) => void,
  ): unknown;
  /** `hook` is what {@link webhookPreHandler} returns; `never` lets Fastify's generic overloads match. */
  addHook(name: "preHandler", hook: never): unknown;
}

type RawBodyRequest = FastifyRequestLike & { rawBody?: Buffer };

export interface FastifyWebhooksOptions extends VerifyOptions {
  /** The endpoint secret, or several while one is being rotated. Required. */
  secret: string | readonly string[];
  /**
   * Answers a rejected webhook instead of the default, which is the error's
   * `status` (401, or 400 for a body that is not JSON) with `{code, message}`.
   * Return the reply after sending it.
   */
  onError?: (err: WebhookVerificationError, request: FastifyRequestLike, reply: FastifyReplyLike) => unknown;
}

/**
 * Replaces the `application/json` parser of `instance` (and of its children)
 * with one that keeps the body as the raw `Buffer`, on both `request.body`
 * and `request.rawBody`. Signatures cover the exact bytes, so the webhook
 * pre-handler verifies these and only then parses them. Use it in the scope
 * of the webhook routes only: other JSON routes there would get a Buffer.
 *
 * @example
 * app.register(async (scope) => {
 *   rawJsonParser(scope);
 *   scope.post("/webhooks", { preHandler: webhookPreHandler(secret) }, async (request) => verifiedWebhook(request).payload);
 * });
 */
export function rawJsonParser(instance: FastifyInstanceLike): void {
  instance.removeContentTypeParser("application/json");
  instance.addContentTypeParser("application/json", { parseAs: "buffer" }, (request: RawBodyRequest, body: Buffer, done) => {
    request.rawBody = body;
    done(null, body);
  });
}

function rawBodyOf(request: RawBodyRequest): string | Buffer {
  if (Buffer.isBuffer(request.rawBody)) return request.rawBody;
  const body: unknown = request.body;
  if (typeof body === "string" || Buffer.isBuffer(body)) return body;
  // No body at all (no content type): verify the empty body, which fails unless signed.
  if (body === undefined || body === null) return Buffer.alloc(0);
  throw new TypeError(
    "the webhook body was already parsed, so its raw bytes are gone: register fastifyWebhooks " +
      "(or rawJsonParser) in the scope of the webhook routes",
  );
}

/**
 * A Fastify `preHandler` that verifies the request against the raw body kept by
 * {@link rawJsonParser}, then sets `request.body` to the parsed payload and
 * `request.webhook` to the {@link VerifiedWebhook} (typed: `verifiedWebhook(request)`).
 * A rejected webhook gets 401 (400 for a body that is not JSON) and never
 * reaches the handler; a receiver's own bad secret is thrown (a logged 500).
 *
 * @example
 * scope.post("/webhooks", { preHandler: webhookPreHandler(process.env.WEBHOOK_SECRET!) }, handler);
 */
export function webhookPreHandler(
  secret: string | readonly string[],
  opts: Omit<FastifyWebhooksOptions, "secret"> = {},
): (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown> {
  const { onError, ...verifyOptions } = opts;
  return async (request, reply) => {
    const raw = rawBodyOf(request as RawBodyRequest);
    try {
      const hook = verifyWebhookDetailed(raw, request.headers, secret, verifyOptions);
      request.body = hook.payload;
      (request as FastifyRequestLike & WithWebhook).webhook = hook;
      return undefined;
    } catch (err) {
      if (!(err instanceof WebhookVerificationError) || err.code === "invalid_secret") throw err;
      if (onError) return onError(err, request, reply);
      return reply.code(err.status).send({ code: err.code, message: err.message });
    }
  };
}

async function plugin(instance: FastifyInstanceLike, opts: FastifyWebhooksOptions): Promise<void> {
  if (opts?.secret === undefined) throw new TypeError("fastifyWebhooks needs { secret }");
  const { secret, ...rest } = opts;
  rawJsonParser(instance);
  instance.addHook("preHandler", webhookPreHandler(secret, rest) as never);
}

/**
 * A Fastify plugin that verifies every route of the scope it is registered in:
 * it keeps JSON bodies raw ({@link rawJsonParser}) and adds
 * {@link webhookPreHandler}. Like plugins wrapped in `fastify-plugin`, it does
 * not open a scope of its own, so register it inside the scope that holds
 * your webhook routes, not at the root of an app with other routes.
 *
 * @example
 * import Fastify from "fastify";
 * import { fastifyWebhooks, verifiedWebhook } from "herald-receiver/fastify";
 *
 * const app = Fastify();
 * app.register(async (webhooks) => {
 *   await webhooks.register(fastifyWebhooks, { secret: process.env.WEBHOOK_SECRET! });
 *   webhooks.post("/webhooks", async (request, reply) => {
 *     const hook = verifiedWebhook(request);
 *     request.log.info({ id: hook.id, type: hook.eventType }, "webhook");
 *     return reply.code(204).send();
 *   });
 * });
 */
export const fastifyWebhooks: (instance: FastifyInstanceLike, opts: FastifyWebhooksOptions) => Promise<void> = Object.assign(plugin, {
  // What fastify-plugin sets; spelled out so fastify stays out of our run-time imports.
  [Symbol.for("skip-override")]: true,
  [Symbol.for("fastify.display-name")]: "herald-webhooks",
});
