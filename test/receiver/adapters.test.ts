// Each adapter of herald-receiver against a minimal fake of its framework's
// objects: the adapters take them by shape and import no framework, so these
// fakes are all a framework has to provide. (express.test.ts and
// fastify.test.ts run the Express and Fastify adapters inside the real ones.)
import { EventEmitter } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { WebhookVerificationError } from "herald-receiver";
import { webhookMiddleware, verifiedWebhook as verifiedExpress } from "herald-receiver/express";
import { type FastifyInstanceLike, fastifyWebhooks, verifiedWebhook as verifiedFastify, webhookPreHandler } from "herald-receiver/fastify";
import { honoWebhooks, verifiedWebhook as verifiedHono } from "herald-receiver/hono";
import { verifyRequest, withWebhook } from "herald-receiver/next";
import { describe, expect, it } from "vitest";
import { OLD_SECRET, SECRET, signed } from "./helpers.js";

const payload = { type: "order.created", data: { id: "ord_1", note: "kept  as  sent" } };
const good = () => signed(payload, { id: "msg_adapter", eventType: "order.created", attempt: 3 });
const forged = () => signed(payload, { secrets: [OLD_SECRET] });
const bytes = (text: string) => new TextEncoder().encode(text);

/** Node's response, as much of it as the Express adapter uses. */
function fakeResponse() {
  const res = { statusCode: 200, headers: {} as Record<string, string>, body: undefined as string | undefined };
  const api = {
    ...res,
    setHeader(name: string, value: string) {
      api.headers[name] = value;
    },
    end(body?: string) {
      api.body = body;
    },
  };
  return api;
}

/** Runs a Connect-style middleware to its end: `next` called, or the response ended. */
function run(middleware: ReturnType<typeof webhookMiddleware>, req: object, res: ReturnType<typeof fakeResponse>) {
  return new Promise<{ next: boolean; err?: unknown }>((resolve) => {
    const end = res.end;
    res.end = (body?: string) => {
      end(body);
      resolve({ next: false });
    };
    middleware(req as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => resolve({ next: true, err }));
  });
}

describe("herald-receiver/express with fake requests", () => {
  it("verifies a body that express.raw() left as a Buffer", async () => {
    const { body, headers } = good();
    const req = { headers, body: Buffer.from(body), readableEnded: true };
    const result = await run(webhookMiddleware(SECRET), req, fakeResponse());
    expect(result).toEqual({ next: true, err: undefined });
    expect(verifiedExpress(req)).toMatchObject({ scheme: "standard", id: "msg_adapter", attempt: 3, payload });
    expect(req.body).toEqual(payload);
  });

  it("reads the body from the stream itself, and answers a forgery with 401", async () => {
    const stream = (text: string, headers: Record<string, string>) => {
      const req = Object.assign(new EventEmitter(), { headers, readableEnded: false });
      setImmediate(() => {
        req.emit("data", Buffer.from(text));
        req.emit("end");
      });
      return req;
    };
    const ok = good();
    const req = stream(ok.body, ok.headers);
    expect(await run(webhookMiddleware(SECRET), req, fakeResponse())).toEqual({ next: true, err: undefined });
    expect(verifiedExpress(req).payload).toEqual(payload);

    const bad = forged();
    const res = fakeResponse();
    expect(await run(webhookMiddleware(SECRET), stream(bad.body, bad.headers), res)).toEqual({ next: false });
    expect(res.statusCode).toBe(401);
    expect(JSON.parse(res.body!)).toMatchObject({ code: "invalid_signature" });
  });
});

describe("herald-receiver/fastify with fake requests", () => {
  function fakeReply() {
    const reply = {
      status: 200,
      sent: undefined as unknown,
      code(status: number) {
        reply.status = status;
        return reply;
      },
      send(body?: unknown) {
        reply.sent = body;
        return reply;
      },
    };
    return reply;
  }

  it("the pre-handler verifies the raw body and replaces it with the payload", async () => {
    const { body, headers } = good();
    const request = { headers, body: Buffer.from(body) as unknown, rawBody: Buffer.from(body) };
    const reply = fakeReply();
    await webhookPreHandler(SECRET)(request, reply);
    expect(reply.sent).toBeUndefined();
    expect(request.body).toEqual(payload);
    expect(verifiedFastify(request)).toMatchObject({ id: "msg_adapter", eventType: "order.created" });

    const bad = forged();
    const rejected = fakeReply();
    await webhookPreHandler(SECRET)({ headers: bad.headers, body: Buffer.from(bad.body) }, rejected);
    expect(rejected).toMatchObject({ status: 401, sent: { code: "invalid_signature" } });
  });

  it("the plugin swaps the scope's JSON parser for a raw one and adds the pre-handler", async () => {
    const calls: string[] = [];
    let parser: ((request: object, body: Buffer, done: (err: Error | null, body?: unknown) => void) => void) | undefined;
    let hook: ((request: object, reply: object) => Promise<unknown>) | undefined;
    const scope: FastifyInstanceLike = {
      removeContentTypeParser(type) {
        calls.push(`remove ${type}`);
      },
      addContentTypeParser(type, opts, fn) {
        calls.push(`add ${type} as ${opts.parseAs}`);
        parser = fn as unknown as typeof parser;
      },
      addHook(name, fn) {
        calls.push(`hook ${name}`);
        hook = fn as unknown as typeof hook;
      },
    };
    await fastifyWebhooks(scope, { secret: SECRET });
    expect(calls).toEqual(["remove application/json", "add application/json as buffer", "hook preHandler"]);

    const { body, headers } = good();
    const request: { headers: Record<string, string>; body?: unknown } = { headers };
    parser!(request, Buffer.from(body), (err, parsed) => {
      expect(err).toBeNull();
      request.body = parsed;
    });
    await hook!(request, fakeReply());
    expect(request.body).toEqual(payload);
    expect(verifiedFastify(request).id).toBe("msg_adapter");
  });
});

describe("herald-receiver/hono with a fake context", () => {
  /** Hono's `Context`, as much of it as the middleware uses: `c.req.raw.headers` and `c.req.arrayBuffer()`. */
  const context = (body: string, headers: Record<string, string>) => ({
    req: { raw: { headers: new Headers(headers) }, arrayBuffer: async () => bytes(body).buffer as ArrayBuffer },
  });

  it("calls the route for a verified webhook and hands it over", async () => {
    const { body, headers } = good();
    const c = context(body, headers);
    let called = false;
    const result = await honoWebhooks([SECRET, OLD_SECRET])(c, async () => {
      called = true;
    });
    expect(result).toBeUndefined();
    expect(called).toBe(true);
    expect(verifiedHono<typeof payload>(c)).toMatchObject({ scheme: "standard", id: "msg_adapter", attempt: 3, payload });
  });

  it("answers rejections itself and never calls the route", async () => {
    const next = async () => {
      throw new Error("the route must not run");
    };
    const bad = forged();
    const res = (await honoWebhooks(SECRET)(context(bad.body, bad.headers), next))!;
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "invalid_signature" });

    const big = good();
    const tooLarge = (await honoWebhooks(SECRET, { limitBytes: 10 })(context(big.body, big.headers), next))!;
    expect(tooLarge.status).toBe(413);

    const own = await honoWebhooks(SECRET, { onError: (err) => new Response(err.code, { status: 403 }) })(context(bad.body, bad.headers), next);
    expect([own!.status, await own!.text()]).toEqual([403, "invalid_signature"]);

    // The receiver's own bad secret is a bug to log, not an answer to the sender.
    await expect(honoWebhooks("whsec_###")(context(big.body, big.headers), next)).rejects.toMatchObject({ code: "invalid_secret" });
    expect(() => verifiedHono(context(big.body, big.headers))).toThrow(/not verified/);
  });
});

describe("herald-receiver/next with route handler requests", () => {
  /** A route handler's request by shape; Next's `NextRequest` is a Fetch `Request`. */
  const request = (body: string, headers: Record<string, string>) => ({ headers: new Headers(headers), arrayBuffer: async () => bytes(body).buffer as ArrayBuffer });

  it("runs the handler with the verified webhook, the request and the route context", async () => {
    const { body, headers } = good();
    const POST = withWebhook<typeof payload, ReturnType<typeof request>, { params: Promise<{ tenant: string }> }>(SECRET, async (hook, req, ctx) =>
      Response.json({ id: hook.id, orderId: hook.payload.data.id, tenant: (await ctx.params).tenant, sameRequest: req.headers.get("webhook-id") === hook.id }),
    );
    const res = await POST(request(body, headers), { params: Promise.resolve({ tenant: "acme" }) });
    expect(await res.json()).toEqual({ id: "msg_adapter", orderId: "ord_1", tenant: "acme", sameRequest: true });
  });

  it("works on a real Fetch Request, and verifyRequest throws the stable codes", async () => {
    const { body, headers } = good();
    const real = new Request("http://127.0.0.1/webhooks/herald", { method: "POST", headers, body });
    expect((await verifyRequest(real, SECRET)).payload).toEqual(payload);

    const bad = forged();
    const err = await verifyRequest(request(bad.body, bad.headers), SECRET).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebhookVerificationError);
    expect(err).toMatchObject({ code: "invalid_signature", status: 401 });
  });

  it("answers rejections with the error's status and never runs the handler", async () => {
    const handler = async () => {
      throw new Error("the handler must not run");
    };
    const bad = forged();
    const res = await withWebhook(SECRET, handler)(request(bad.body, bad.headers), undefined);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "invalid_signature" });

    const ok = good();
    const notJson = signed(null, { body: "not json" });
    expect((await withWebhook(SECRET, handler)(request(notJson.body, notJson.headers), undefined)).status).toBe(400);
    const tooLarge = await withWebhook(SECRET, handler, { limitBytes: 10 })(request(ok.body, { ...ok.headers, "content-length": "999" }), undefined);
    expect(tooLarge.status).toBe(413);
    const custom = await withWebhook(SECRET, handler, { onError: (e) => new Response(e.code, { status: 403 }) })(request(bad.body, bad.headers), undefined);
    expect(custom.status).toBe(403);
  });
});
