import type { IncomingMessage, ServerResponse } from "node:http";
import { WebhookVerificationError } from "./errors.js";
import { limitOf, PayloadTooLarge } from "./fetch.js";
import type { WithWebhook } from "./request.js";
import { type VerifyOptions, verifyWebhookDetailed } from "./verify.js";

export { verifiedWebhook, type WithWebhook } from "./request.js";

/**
 * The request shape the middleware works on: Node's (Express's, Connect's and
 * Polka's requests are Node's), plus what body parsers add. Only Node's own
 * types are referred to; nothing from Express is imported.
 */
export type MiddlewareRequest = IncomingMessage & { body?: unknown; rawBody?: unknown };
export type NextFunction = (err?: unknown) => void;

export interface WebhookMiddlewareOptions extends VerifyOptions {
  /**
   * Largest body the middleware reads from the request stream; a larger one
   * is answered with 413. Herald refuses to publish payloads over 256 KiB by
   * default. Default: 1048576 (1 MiB).
   */
  limitBytes?: number;
  /**
   * Answers a rejected webhook instead of the default, which is the error's
   * `status` (401, or 400 for a body that is not JSON) with a JSON body
   * `{code, message}`. A receiver's own bad secret (`invalid_secret`) is
   * passed to `next` instead, so the app's error handler logs it.
   */
  onError?: (err: WebhookVerificationError, req: MiddlewareRequest, res: ServerResponse, next: NextFunction) => void;
}

function isRaw(value: unknown): value is string | Buffer {
  return typeof value === "string" || Buffer.isBuffer(value);
}

function send(res: ServerResponse, status: number, body: object): void {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}

/** Reads the rest of the request stream, refusing more than `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) return reject(new PayloadTooLarge(limit));
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(new PayloadTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/**
 * Where the raw bytes are: a body that `express.raw()` or `express.text()`
 * left, a `rawBody` that a parser's `verify` hook kept, or the unread stream.
 * A body already parsed into an object has lost them (re-serializing it is
 * not the same bytes in general), so that is a wiring error.
 */
async function rawBodyOf(req: MiddlewareRequest, limit: number): Promise<string | Buffer> {
  if (isRaw(req.body)) return req.body;
  if (isRaw(req.rawBody)) return req.rawBody;
  // Express 4's json() sets `req.body = {}` even when it skips a request, so
  // whether the stream was read is what tells a consumed body apart.
  if (req.readableEnded) {
    throw new TypeError(
      "webhookMiddleware needs the raw body, but a body parser already consumed it: " +
        "mount it before express.json() on the webhook route, or use express.raw({ type: 'application/json' })",
    );
  }
  return readBody(req, limit);
}

/**
 * Connect-style middleware (Express 4 and 5, Connect, Polka, or a plain Node
 * server calling it by hand) that verifies a Herald webhook against the raw
 * body. On success it sets `req.body` to the parsed payload, `req.rawBody` to
 * the bytes and `req.webhook` to the {@link VerifiedWebhook} (read it typed with
 * `verifiedWebhook(req)`), then calls `next()`. On failure it answers 401 (400
 * for a body that is not JSON, 413 for one over `limitBytes`) and does not
 * call the route. Express is not a dependency: only Node's request and
 * response objects are used.
 *
 * @example
 * import express from "express";
 * import { verifiedWebhook, webhookMiddleware } from "herald-receiver/express";
 *
 * const app = express();
 * app.post("/webhooks", webhookMiddleware(process.env.WEBHOOK_SECRET!), (req, res) => {
 *   const hook = verifiedWebhook(req);
 *   console.log(hook.eventType, hook.id, hook.payload);
 *   res.sendStatus(204);
 * });
 */
export function webhookMiddleware(
  secret: string | readonly string[],
  opts: WebhookMiddlewareOptions = {},
): (req: MiddlewareRequest, res: ServerResponse, next: NextFunction) => void {
  const limit = limitOf(opts);
  const { onError, limitBytes: _, ...verifyOptions } = opts;

  return (req, res, next) => {
    rawBodyOf(req, limit).then(
      (raw) => {
        let hook: ReturnType<typeof verifyWebhookDetailed>;
        try {
          hook = verifyWebhookDetailed(raw, req.headers, secret, verifyOptions);
        } catch (err) {
          if (!(err instanceof WebhookVerificationError) || err.code === "invalid_secret") return next(err);
          if (onError) return onError(err, req, res, next);
          return send(res, err.status, { code: err.code, message: err.message });
        }
        req.rawBody = Buffer.isBuffer(raw) ? raw : Buffer.from(raw, "utf8");
        req.body = hook.payload;
        (req as MiddlewareRequest & WithWebhook).webhook = hook;
        next();
      },
      (err: unknown) => {
        if (!(err instanceof PayloadTooLarge)) return next(err);
        // Unread bytes remain on the socket; closing it beats draining them.
        res.setHeader("connection", "close");
        send(res, 413, { code: "payload_too_large", message: err.message });
      },
    );
  };
}
