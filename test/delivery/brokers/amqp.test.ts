import amqp, { type Channel, type ChannelModel, type GetMessage } from "amqplib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { AmqpDestination } from "../../../src/delivery/destinations/index.js";
import { SsrfGuard } from "../../../src/security/guard.js";
import { attemptsOf, brokerAvailable, closedPort, expectWireHeaders, openBrokerHerald, PAYLOAD, publishPayload, SECRET, uniqueName } from "../../helpers/brokers.js";
import { eventually } from "../../helpers/herald.js";

/** RabbitMQ through Herald: runs on SQLite, and on PostgreSQL under HERALD_TEST_STORE=postgres. */
const up = await brokerAvailable("RabbitMQ");
const BROKER = "amqp://guest:guest@127.0.0.1:5672";

describe.skipIf(!up)("amqp: endpoints (RabbitMQ, publisher confirms)", () => {
  let admin: ChannelModel;
  let ch: Channel;
  const exchanges: string[] = [];
  const queues: string[] = [];
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    admin = await amqp.connect(`${BROKER}/`);
    ch = await admin.createChannel();
  });
  afterEach(async () => {
    await close?.();
    close = undefined;
    for (const q of queues.splice(0)) await ch.deleteQueue(q);
    for (const e of exchanges.splice(0)) await ch.deleteExchange(e);
  });
  afterAll(async () => {
    await admin?.close();
  });

  /** An exchange with one queue bound under `routingKey`. */
  async function route(routingKey: string): Promise<{ exchange: string; queue: string }> {
    const exchange = uniqueName("ex");
    const queue = uniqueName("q");
    await ch.assertExchange(exchange, "direct", { durable: false });
    exchanges.push(exchange);
    await ch.assertQueue(queue, { durable: false });
    queues.push(queue);
    await ch.bindQueue(queue, exchange, routingKey);
    return { exchange, queue };
  }

  /** The next message of `queue`, or null while there is none. */
  const getOne = async (queue: string): Promise<GetMessage | null> => (await ch.get(queue, { noAck: true })) || null;

  async function start(settings: Record<string, string> = {}) {
    const opened = await openBrokerHerald(settings);
    close = opened.close;
    return opened;
  }

  it("publishes the exact body with the §4 headers as AMQP headers; the confirm is the success, and the signature verifies", async () => {
    const { exchange, queue } = await route("orders");
    const { herald, app } = await start();
    const url = `${BROKER}/?exchange=${exchange}&routingKey=orders`;
    const endpoint = await herald.createEndpoint(app.id, { url, secret: SECRET });
    const { message } = await publishPayload(herald, app.id);

    const got = await eventually(() => getOne(queue));
    expect(got.content.equals(Buffer.from(PAYLOAD, "utf8"))).toBe(true);
    const headers = got.properties.headers as Record<string, string>;
    expectWireHeaders(headers, message.id, "order.created", got.content);
    expect(got.properties).toMatchObject({ contentType: "application/json", messageId: message.id, type: "order.created", deliveryMode: 2 });
    expect(got.properties.timestamp).toBe(Number(headers["webhook-timestamp"]));

    const [attempt] = await attemptsOf(herald, endpoint.id, 1);
    expect(attempt).toMatchObject({ success: true, statusCode: null, errorKind: null, attemptNumber: 1 });
    expect(attempt!.responseBody).toContain(`exchange "${exchange}"`);
    // The attempt log shows the URL without its password.
    expect(attempt!.url).toBe(`amqp://guest:***@127.0.0.1:5672/?exchange=${exchange}&routingKey=orders`);
  });

  it("logs in with the URL's password when HERALD_ENCRYPTION_KEY keeps it encrypted at rest", async () => {
    const { exchange, queue } = await route("orders");
    const { herald, app } = await start({ HERALD_ENCRYPTION_KEY: Buffer.alloc(32, 9).toString("base64") });
    const endpoint = await herald.createEndpoint(app.id, { url: `${BROKER}/?exchange=${exchange}&routingKey=orders`, secret: SECRET });
    await publishPayload(herald, app.id);
    expect((await eventually(() => getOne(queue))).content.equals(Buffer.from(PAYLOAD, "utf8"))).toBe(true);
    expect((await attemptsOf(herald, endpoint.id, 1))[0]).toMatchObject({ success: true });
  });

  it("an exchange that does not exist is a failed attempt (the broker's words), retried on the schedule: the retry succeeds once it exists", async () => {
    const exchange = uniqueName("late");
    const { herald, app } = await start();
    const endpoint = await herald.createEndpoint(app.id, { url: `${BROKER}/?exchange=${exchange}&routingKey=k`, secret: SECRET });
    await publishPayload(herald, app.id);
    const [first] = await attemptsOf(herald, endpoint.id, 1);
    expect(first).toMatchObject({ success: false, statusCode: null, errorKind: "broker_rejected", attemptNumber: 1 });
    expect(first!.errorMessage).toContain(`no exchange '${exchange}'`);

    await ch.assertExchange(exchange, "direct", { durable: false });
    exchanges.push(exchange);
    const queue = uniqueName("q");
    await ch.assertQueue(queue, { durable: false });
    queues.push(queue);
    await ch.bindQueue(queue, exchange, "k");
    const attempts = await eventually(async () => {
      const all = await attemptsOf(herald, endpoint.id, 2);
      return all.some((a) => a.success) ? all : null;
    });
    expect(attempts.at(-1)).toMatchObject({ success: true });
    const got = await eventually(() => getOne(queue));
    expect(got.content.toString("utf8")).toBe(PAYLOAD);
    expect(Number((got.properties.headers as Record<string, string>)["x-webhook-attempt"])).toBeGreaterThan(1);
  });

  it("a message no queue takes (mandatory, returned) is a failed attempt, not a silent success", async () => {
    const { exchange } = await route("bound");
    const { herald, app } = await start({ HERALD_RETRY_SCHEDULE: "0s" });
    const endpoint = await herald.createEndpoint(app.id, { url: `${BROKER}/?exchange=${exchange}&routingKey=unbound`, secret: SECRET });
    await publishPayload(herald, app.id);
    const [attempt] = await attemptsOf(herald, endpoint.id, 1);
    expect(attempt).toMatchObject({ success: false, errorKind: "broker_rejected" });
    expect(attempt!.errorMessage).toMatch(/unroutable.*312 NO_ROUTE/);
  });

  it("a broker that is down, or refuses the login, is a failed attempt; the password never shows", async () => {
    const { herald, app } = await start({ HERALD_RETRY_SCHEDULE: "0s" });
    const down = await herald.createEndpoint(app.id, { url: `amqp://127.0.0.1:${await closedPort()}/?exchange=x`, secret: SECRET });
    const password = "never-in-the-log-8d1f";
    const refused = await herald.createEndpoint(app.id, { url: `amqp://guest:${password}@127.0.0.1:5672/?exchange=x`, secret: SECRET });
    await publishPayload(herald, app.id);
    const [a] = await attemptsOf(herald, down.id, 1);
    expect(a).toMatchObject({ success: false, errorKind: "connection_refused" });
    const [b] = await attemptsOf(herald, refused.id, 1);
    expect(b).toMatchObject({ success: false, errorKind: "auth" });
    expect(b!.errorMessage).toContain("ACCESS_REFUSED");
    expect(JSON.stringify(b)).not.toContain(password);
    expect(herald.dispatcher?.running).toBe(true);
  });

  it("takes its login from the endpoint's basic authentication, which consumers never see", async () => {
    const { exchange, queue } = await route("orders");
    const { herald, app } = await start({ HERALD_RETRY_SCHEDULE: "0s" });
    const url = `amqp://127.0.0.1:5672/?exchange=${exchange}&routingKey=orders`;
    const good = await herald.createEndpoint(app.id, { url, secret: SECRET, authentication: { type: "basic", username: "guest", password: "guest" } });
    const password = "basic-password-never-logged-3c9";
    const bad = await herald.createEndpoint(app.id, { url, secret: SECRET, authentication: { type: "basic", username: "guest", password } });
    await publishPayload(herald, app.id);
    expect((await attemptsOf(herald, good.id, 1))[0]).toMatchObject({ success: true });
    const [refused] = await attemptsOf(herald, bad.id, 1);
    expect(refused).toMatchObject({ success: false, errorKind: "auth" });
    expect(JSON.stringify(refused)).not.toContain(password);
    const got = await eventually(() => getOne(queue));
    expect(got.content.toString("utf8")).toBe(PAYLOAD);
    expect(got.properties.headers).not.toHaveProperty("authorization");
  });

  it("on one shared channel, tells each publish in flight its own outcome: confirmed, returned, or no exchange", async () => {
    const { exchange, queue } = await route("ok");
    const missing = uniqueName("missing");
    const destination = new AmqpDestination({ guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"] }) });
    try {
      const send = (i: number, ex: string, key: string) =>
        destination.send({
          url: new URL(`${BROKER}/?exchange=${ex}&routingKey=${key}`),
          headers: { "webhook-id": `msg_${i}`, "webhook-signature": `v1,sig${i}` },
          body: `{"i":${i}}`,
          timeoutMs: 5000,
        });
      const kinds = Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? "ok" : i % 3 === 1 ? "returned" : "missing"));
      const results = await Promise.all(
        kinds.map((kind, i) => (kind === "ok" ? send(i, exchange, "ok") : kind === "returned" ? send(i, exchange, "nobody") : send(i, missing, "ok"))),
      );
      results.forEach((r, i) => {
        if (kinds[i] === "ok") expect(r).toMatchObject({ ok: true });
        else if (kinds[i] === "returned") expect(r.errorMessage).toMatch(/unroutable/);
        else expect(r.errorMessage).toMatch(/no exchange/);
      });
      expect((await ch.checkQueue(queue)).messageCount).toBe(10);
      expect(destination.connections).toBe(1);
    } finally {
      await destination.close();
    }
  });

  it("keeps one connection per broker and user, shared by exchanges, and closes it when idle", async () => {
    const one = await route("a");
    const two = await route("b");
    const destination = new AmqpDestination({ guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"] }), idleMs: 200 });
    try {
      const send = (exchange: string, key: string) =>
        destination.send({ url: new URL(`${BROKER}/?exchange=${exchange}&routingKey=${key}`), headers: { "webhook-id": "msg_x" }, body: "{}", timeoutMs: 5000 });
      const results = await Promise.all([send(one.exchange, "a"), send(two.exchange, "b"), send(one.exchange, "a")]);
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      expect(destination.connections).toBe(1);
      await eventually(() => destination.connections === 0, 3000);
      expect((await send(two.exchange, "b")).ok).toBe(true); // opened again
    } finally {
      await destination.close();
    }
    expect(destination.connections).toBe(0);
  });

  it("goes through the SSRF guard: a loopback broker is blocked unless its network is allowed", async () => {
    const destination = new AmqpDestination({ guard: new SsrfGuard() });
    try {
      const result = await destination.send({ url: new URL(`${BROKER}/?exchange=amq.direct`), headers: {}, body: "{}", timeoutMs: 2000 });
      expect(result).toMatchObject({ ok: false, errorKind: "blocked" });
      expect(result.errorMessage).toContain("127.0.0.1 is a loopback address");
      expect(result.errorMessage).not.toContain("guest:guest");
    } finally {
      await destination.close();
    }
  });
});
