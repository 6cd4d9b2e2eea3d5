import Fastify, { type FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { fastifyWebhooks, rawJsonParser, verifiedWebhook, webhookPreHandler } from "../../src/receiver/index.js";
import { OLD_SECRET, post, SECRET, signed } from "./helpers.js";

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function serve(app: FastifyInstance): Promise<string> {
  apps.push(app);
  return app.listen({ port: 0, host: "127.0.0.1" });
}

const payload = { type: "pet.adopted", data: { petId: "pet_1", note: "with spaces   kept" } };

describe("fastifyWebhooks plugin", () => {
  function app(seen: unknown[] = []) {
    const a = Fastify();
    a.register(async (scope) => {
      await scope.register(fastifyWebhooks, { secret: [SECRET, OLD_SECRET] });
      scope.post("/webhooks", async (request, reply) => {
        const hook = verifiedWebhook(request);
        seen.push({ body: request.body, id: hook.id, eventType: hook.eventType, attempt: hook.attempt });
        return reply.code(204).send();
      });
    });
    // Outside the scope: ordinary JSON parsing, no verification.
    a.post("/api/echo", async (request) => ({ echoed: request.body }));
    return a;
  }

  it("verifies a delivery over HTTP and hands the route the parsed payload", async () => {
    const seen: unknown[] = [];
    const url = await serve(app(seen));
    const res = await post(`${url}/webhooks`, signed(payload, { id: "msg_fastify", eventType: "pet.adopted", attempt: 4 }));
    expect(res.status).toBe(204);
    expect(seen).toEqual([{ body: payload, id: "msg_fastify", eventType: "pet.adopted", attempt: 4 }]);
  });

  it("verifies a body that JSON.parse + JSON.stringify would change (raw bytes are kept)", async () => {
    const seen: unknown[] = [];
    const url = await serve(app(seen));
    const pretty = JSON.stringify(payload, null, 2);
    const res = await post(`${url}/webhooks`, signed(undefined, { body: pretty }));
    expect(res.status).toBe(204);
    expect(seen).toEqual([expect.objectContaining({ body: payload })]);
  });

  it("answers 401 with the error code for bad signatures, old timestamps and unsigned requests", async () => {
    const seen: unknown[] = [];
    const url = await serve(app(seen));
    const stranger = "whsec_aGVyYWxkLXRlc3Qtc3RyYW5nZXItc2VjcmV0LTAx";
    expect(await post(`${url}/webhooks`, signed(payload, { secrets: [stranger] }))).toMatchObject({
      status: 401,
      json: { code: "invalid_signature" },
    });
    const future = signed(payload, { timestamp: Math.floor(Date.now() / 1000) + 900 });
    expect(await post(`${url}/webhooks`, future)).toMatchObject({ status: 401, json: { code: "timestamp_too_new" } });
    const unsigned = { body: JSON.stringify(payload), headers: { "content-type": "application/json" } };
    expect(await post(`${url}/webhooks`, unsigned)).toMatchObject({ status: 401, json: { code: "missing_headers" } });
    expect(seen).toEqual([]);
  });

  it("answers 400 for a signed body that is not JSON", async () => {
    const url = await serve(app());
    expect(await post(`${url}/webhooks`, signed(undefined, { body: "[1," }))).toMatchObject({ status: 400, json: { code: "invalid_payload" } });
  });

  it("leaves routes outside its scope alone", async () => {
    const url = await serve(app());
    const res = await post(`${url}/api/echo`, { body: '{"a":1}', headers: { "content-type": "application/json" } });
    expect(res).toMatchObject({ status: 200, json: { echoed: { a: 1 } } });
  });

  it("refuses to start without a secret", async () => {
    const a = Fastify();
    apps.push(a);
    a.register(fastifyWebhooks, {} as { secret: string });
    await expect(a.ready()).rejects.toThrow(/needs \{ secret \}/);
  });
});

describe("rawJsonParser + webhookPreHandler per route", () => {
  it("verifies only the route that asks for it", async () => {
    const a = Fastify();
    a.register(async (scope) => {
      rawJsonParser(scope);
      scope.post("/hooks/orders", { preHandler: webhookPreHandler(SECRET) }, async (request) => ({
        got: request.body,
        scheme: verifiedWebhook(request).scheme,
      }));
      scope.post("/hooks/raw", async (request) => ({ isBuffer: Buffer.isBuffer(request.body) }));
    });
    const url = await serve(a);
    expect(await post(`${url}/hooks/orders`, signed(payload))).toMatchObject({ status: 200, json: { got: payload, scheme: "standard" } });
    const seedOnly = signed(payload);
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) delete seedOnly.headers[name];
    expect(await post(`${url}/hooks/orders`, seedOnly)).toMatchObject({ status: 200, json: { got: payload, scheme: "seed" } });
    expect(await post(`${url}/hooks/raw`, signed(payload))).toMatchObject({ status: 200, json: { isBuffer: true } });
  });

  it("lets onError shape the rejection, and throws (500) for the receiver's own bad secret", async () => {
    const a = Fastify();
    a.register(async (scope) => {
      rawJsonParser(scope);
      scope.post("/custom", { preHandler: webhookPreHandler(SECRET, { onError: (err, _req, reply) => reply.code(418).send({ why: err.code }) }) }, async () => "no");
      scope.post("/misconfigured", { preHandler: webhookPreHandler("") }, async () => "no");
    });
    const url = await serve(a);
    expect(await post(`${url}/custom`, signed(payload, { secrets: [OLD_SECRET] }))).toMatchObject({ status: 418, json: { why: "invalid_signature" } });
    expect((await post(`${url}/misconfigured`, signed(payload))).status).toBe(500);
  });
});
