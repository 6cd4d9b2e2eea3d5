import { createHmac } from "node:crypto";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { createApp, createEndpoint, eventually, openTestHerald } from "../helpers/herald.js";

describe("a delivery on the wire", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;

  beforeEach(async () => {
    ({ herald, close } = await openTestHerald());
    await herald.start();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await close();
    await receiver.close();
  });

  it("posts the payload byte for byte with both signature schemes and the contract's headers", async () => {
    const app = await createApp(herald);
    const ep = await createEndpoint(herald, app, `${receiver.url}/hooks/petstore?x=1`, { headers: { "X-Tenant": "acme" } });
    const payload = JSON.stringify({ id: "evt_1", eventType: "order.created", data: { amount: "125.50", "ünï": "ç😀" } });
    const { message } = await herald.publish({ appId: app.id, eventType: "order.created", payload, channels: null, eventId: null });

    const [req] = await receiver.waitFor(1);
    expect(req!.method).toBe("POST");
    expect(req!.path).toBe("/hooks/petstore?x=1");
    expect(req!.body).toBe(payload);
    const h = req!.headers;
    expect(h["content-type"]).toBe("application/json");
    expect(h["user-agent"]).toMatch(/^Herald\/\d+\.\d+\.\d+/);
    expect(h["webhook-id"]).toBe(message.id);
    expect(h["x-webhook-id"]).toBe(message.id);
    expect(h["x-webhook-event"]).toBe("order.created");
    expect(h["x-webhook-attempt"]).toBe("1");
    expect(h["x-tenant"]).toBe("acme");
    expect(Math.abs(Number(h["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);

    // Standard Webhooks, verified by two libraries nobody here wrote.
    const headers = {
      "webhook-id": String(h["webhook-id"]),
      "webhook-timestamp": String(h["webhook-timestamp"]),
      "webhook-signature": String(h["webhook-signature"]),
    };
    expect(new StandardWebhook(ep.secret).verify(req!.body, headers)).toEqual(JSON.parse(payload));
    expect(new SvixWebhook(ep.secret).verify(req!.body, headers)).toEqual(JSON.parse(payload));
    expect(() => new StandardWebhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`).verify(req!.body, headers)).toThrow();

    // The seeds' scheme: hex HMAC of the raw body keyed by the whole secret string.
    const expected = createHmac("sha256", ep.secret).update(req!.body).digest("hex");
    expect(h["x-webhook-signature"]).toBe(expected);
  });

  it("sends the same body to every endpoint and keeps the id across retries", async () => {
    const app = await createApp(herald);
    const other = await startReceiver();
    try {
      await createEndpoint(herald, app, receiver.url);
      await createEndpoint(herald, app, other.url);
      const payload = JSON.stringify({ b: 1, a: [1, 2, { z: null }] });
      await herald.publish({ appId: app.id, eventType: "thing.happened", payload, channels: null, eventId: null });
      const [a] = await receiver.waitFor(1);
      const [b] = await other.waitFor(1);
      expect(a!.body).toBe(payload);
      expect(b!.body).toBe(payload);
      expect(a!.headers["webhook-id"]).toBe(b!.headers["webhook-id"]);
    } finally {
      await other.close();
    }
  });

  it("signs with both secrets during a rotation, and with the newest for x-webhook-signature", async () => {
    const app = await createApp(herald);
    const ep = await createEndpoint(herald, app, receiver.url);
    const oldSecret = ep.secret;
    const newSecret = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    const now = Date.now();
    await herald.store.rotateEndpointSecret(app.id, ep.id, newSecret, now + 24 * 3600_000, now);
    await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    const [req] = await receiver.waitFor(1);
    const headers = {
      "webhook-id": String(req!.headers["webhook-id"]),
      "webhook-timestamp": String(req!.headers["webhook-timestamp"]),
      "webhook-signature": String(req!.headers["webhook-signature"]),
    };
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new StandardWebhook(oldSecret).verify(req!.body, headers)).toEqual({});
    expect(new StandardWebhook(newSecret).verify(req!.body, headers)).toEqual({});
    expect(req!.headers["x-webhook-signature"]).toBe(createHmac("sha256", newSecret).update("{}").digest("hex"));
  });

  it("stops signing with the old secret once its overlap has passed", async () => {
    const app = await createApp(herald);
    const ep = await createEndpoint(herald, app, receiver.url);
    const newSecret = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
    const now = Date.now();
    await herald.store.rotateEndpointSecret(app.id, ep.id, newSecret, now - 1, now);
    await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    const [req] = await receiver.waitFor(1);
    expect(String(req!.headers["webhook-signature"]).split(" ")).toHaveLength(1);
  });

  it("adds bearer, basic and header authentication as configured", async () => {
    const app = await createApp(herald);
    await createEndpoint(herald, app, `${receiver.url}/bearer`, { authentication: { type: "bearer", token: "tok_123" } });
    await createEndpoint(herald, app, `${receiver.url}/basic`, { authentication: { type: "basic", username: "u", password: "p:w" } });
    await createEndpoint(herald, app, `${receiver.url}/header`, { authentication: { type: "header", name: "X-Api-Key", value: "k1" } });
    await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    await receiver.waitFor(3);
    const byPath = Object.fromEntries(receiver.received.map((r) => [r.path, r.headers]));
    expect(byPath["/bearer"]!.authorization).toBe("Bearer tok_123");
    expect(byPath["/basic"]!.authorization).toBe(`Basic ${Buffer.from("u:p:w").toString("base64")}`);
    expect(byPath["/header"]!["x-api-key"]).toBe("k1");
  });

  it("records the attempt with status, headers and body", async () => {
    receiver.behave((_r, res) => {
      res.setHeader("x-receiver", "yes");
      res.end("thanks");
    });
    const app = await createApp(herald);
    const ep = await createEndpoint(herald, app, receiver.url);
    const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    const attempts = await eventually(async () => {
      const page = await herald.store.listMessageAttempts(message.id, { limit: 10 });
      return page.data.length === 1 ? page.data : null;
    });
    const a = attempts[0]!;
    expect(a).toMatchObject({ endpointId: ep.id, attemptNumber: 1, success: true, statusCode: 200, responseBody: "thanks", errorKind: null });
    expect(a.responseHeaders?.["x-receiver"]).toBe("yes");
    const [d] = await herald.store.listDeliveries(message.id);
    expect(d).toMatchObject({ status: "succeeded", attempts: 1 });
  });
});
