import { createServer, type RequestListener, type Server } from "node:http";
import { Readable } from "node:stream";
import express from "express";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { createDeduplicator, verifiedWebhook, webhookMiddleware } from "../../src/receiver/index.js";
import { close, listen, OLD_SECRET, post, SECRET, signed } from "./helpers.js";

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

async function serve(app: RequestListener): Promise<string> {
  const server = createServer(app);
  servers.push(server);
  return listen(server);
}

const payload = { type: "order.created", data: { id: "ord_1", amount: 1799 } };

describe("webhookMiddleware with Express", () => {
  function app(secret: string | string[] = SECRET, seen: unknown[] = []) {
    const a = express();
    a.post("/webhooks", webhookMiddleware(secret), (req, res) => {
      const hook = verifiedWebhook(req);
      seen.push({ body: req.body, hook, raw: (req as { rawBody?: Buffer }).rawBody?.toString() });
      res.status(204).end();
    });
    return a;
  }

  it("passes a signed delivery to the route with the parsed payload, metadata and raw bytes", async () => {
    const seen: unknown[] = [];
    const url = await serve(app(SECRET, seen));
    const req = signed(payload, { id: "msg_express", eventType: "order.created", attempt: 2 });
    const res = await post(`${url}/webhooks`, req);
    expect(res.status).toBe(204);
    expect(seen).toEqual([
      {
        body: payload,
        hook: expect.objectContaining({ scheme: "standard", id: "msg_express", eventType: "order.created", attempt: 2, payload }),
        raw: req.body,
      },
    ]);
  });

  it("answers 401 with a stable code and never calls the route for a bad signature", async () => {
    const seen: unknown[] = [];
    const url = await serve(app(SECRET, seen));
    const bad = signed(payload, { secrets: [OLD_SECRET] });
    expect(await post(`${url}/webhooks`, bad)).toMatchObject({ status: 401, json: { code: "invalid_signature" } });
    const stale = signed(payload, { timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(await post(`${url}/webhooks`, stale)).toMatchObject({ status: 401, json: { code: "timestamp_too_old" } });
    const unsigned = { body: JSON.stringify(payload), headers: { "content-type": "application/json" } };
    expect(await post(`${url}/webhooks`, unsigned)).toMatchObject({ status: 401, json: { code: "missing_headers" } });
    expect(seen).toEqual([]);
  });

  it("accepts either secret during a rotation", async () => {
    const url = await serve(app([SECRET, OLD_SECRET]));
    expect((await post(`${url}/webhooks`, signed(payload, { secrets: [OLD_SECRET] }))).status).toBe(204);
    expect((await post(`${url}/webhooks`, signed(payload, { secrets: [SECRET] }))).status).toBe(204);
  });

  it("answers 400 for a signed body that is not JSON", async () => {
    const url = await serve(app());
    expect(await post(`${url}/webhooks`, signed(undefined, { body: "{oops" }))).toMatchObject({ status: 400, json: { code: "invalid_payload" } });
  });

  it("works after express.raw() and express.text(), which keep the bytes", async () => {
    const a = express();
    a.post("/raw", express.raw({ type: "application/json" }), webhookMiddleware(SECRET), (req, res) => res.json(req.body));
    a.post("/text", express.text({ type: "application/json" }), webhookMiddleware(SECRET), (req, res) => res.json(req.body));
    const url = await serve(a);
    for (const path of ["/raw", "/text"]) {
      expect(await post(`${url}${path}`, signed(payload))).toMatchObject({ status: 200, json: payload });
    }
  });

  it("fails loudly (500 via the error handler) when express.json() already consumed the body", async () => {
    const errors: string[] = [];
    const a = express();
    a.use(express.json());
    a.post("/webhooks", webhookMiddleware(SECRET), (_req, res) => res.sendStatus(204));
    a.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(err.message);
      res.status(500).end();
    });
    const url = await serve(a);
    expect((await post(`${url}/webhooks`, signed(payload))).status).toBe(500);
    expect(errors).toEqual([expect.stringMatching(/before express\.json\(\)/)]);
  });

  it("reads the stream itself when express.json() skipped the request (another content type)", async () => {
    const a = express();
    a.use(express.json());
    a.post("/webhooks", webhookMiddleware(SECRET), (req, res) => res.json(req.body));
    const url = await serve(a);
    const req = signed(payload);
    req.headers["content-type"] = "application/vnd.herald+json";
    expect(await post(`${url}/webhooks`, req)).toMatchObject({ status: 200, json: payload });
  });

  it("passes a receiver's own bad secret to the error handler instead of blaming the sender", async () => {
    const errors: string[] = [];
    const a = express();
    a.post("/webhooks", webhookMiddleware("whsec_"), (_req, res) => res.sendStatus(204));
    a.use((err: { code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push(String(err.code));
      res.status(500).end();
    });
    const url = await serve(a);
    expect((await post(`${url}/webhooks`, signed(payload))).status).toBe(500);
    expect(errors).toEqual(["invalid_secret"]);
  });

  it("answers 413 past limitBytes, from the content-length or the stream", async () => {
    const a = express();
    a.post("/webhooks", webhookMiddleware(SECRET, { limitBytes: 64 }), (_req, res) => res.sendStatus(204));
    const url = await serve(a);
    const big = signed({ filler: "x".repeat(200) });
    expect(await post(`${url}/webhooks`, big)).toMatchObject({ status: 413, json: { code: "payload_too_large" } });
    // Chunked, no content-length: the limit is enforced while reading.
    const res = await request(`${url}/webhooks`, {
      method: "POST",
      headers: big.headers,
      body: Readable.from([Buffer.from(big.body.slice(0, 100)), Buffer.from(big.body.slice(100))]),
    });
    expect(res.statusCode).toBe(413);
    await res.body.dump();
  });

  it("lets onError answer rejected webhooks", async () => {
    const a = express();
    a.post(
      "/webhooks",
      webhookMiddleware(SECRET, { onError: (err, _req, res) => res.writeHead(403, { "x-reason": err.code }).end() }),
      (_req, res) => res.sendStatus(204),
    );
    const url = await serve(a);
    const res = await request(`${url}/webhooks`, { method: "POST", body: "{}", headers: { "content-type": "application/json" } });
    expect(res.statusCode).toBe(403);
    expect(res.headers["x-reason"]).toBe("missing_headers");
    await res.body.dump();
  });

  it("with a deduplicator, handles a redelivered webhook-id once and still answers 2xx", async () => {
    const handled: unknown[] = [];
    const dedup = createDeduplicator();
    const a = express();
    a.post("/webhooks", webhookMiddleware(SECRET), async (req, res) => {
      const hook = verifiedWebhook(req);
      const outcome = await dedup.once(hook.id!, () => handled.push(hook.payload));
      res.status(outcome.duplicate ? 200 : 204).end();
    });
    const url = await serve(a);
    const first = signed(payload, { id: "msg_dup", attempt: 1 });
    const retry = signed(payload, { id: "msg_dup", attempt: 2 });
    expect((await post(`${url}/webhooks`, first)).status).toBe(204);
    expect((await post(`${url}/webhooks`, retry)).status).toBe(200);
    expect(handled).toEqual([payload]);
  });
});

describe("webhookMiddleware on a plain Node server", () => {
  it("verifies with Node's req/res and a hand-written next", async () => {
    const mw = webhookMiddleware(SECRET);
    const url = await serve((req, res) => {
      mw(req, res, (err) => {
        if (err) return res.writeHead(500).end(String(err));
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(verifiedWebhook(req).payload));
      });
    });
    expect(await post(url, signed(payload))).toMatchObject({ status: 200, json: payload });
    expect((await post(url, signed(payload, { secrets: [OLD_SECRET] }))).status).toBe(401);
  });

  it("verifiedWebhook refuses a request that was not verified", () => {
    expect(() => verifiedWebhook({})).toThrow(/not verified/);
  });
});
