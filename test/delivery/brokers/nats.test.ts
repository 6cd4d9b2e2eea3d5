import { connect, type JetStreamManager, type MsgHdrs, type NatsConnection, StorageType } from "nats";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { NatsDestination } from "../../../src/delivery/destinations/index.js";
import type { Herald } from "../../../src/herald.js";
import { SsrfGuard } from "../../../src/security/guard.js";
import { attemptsOf, brokerAvailable, closedPort, expectWireHeaders, openBrokerHerald, PAYLOAD, publishPayload, SECRET, uniqueName } from "../../helpers/brokers.js";
import { eventually } from "../../helpers/herald.js";

/** NATS JetStream through Herald: runs on SQLite, and on PostgreSQL under HERALD_TEST_STORE=postgres. */
const up = await brokerAvailable("NATS");
const BROKER = "nats://127.0.0.1:4222";

function headerObject(h: MsgHdrs): Record<string, string> {
  return Object.fromEntries(h.keys().map((k) => [k, h.get(k)]));
}

describe.skipIf(!up)("nats: endpoints (NATS JetStream, the stream's ack)", () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const streams: string[] = [];
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    nc = await connect({ servers: "127.0.0.1:4222" });
    jsm = await nc.jetstreamManager();
  });
  afterEach(async () => {
    await close?.();
    close = undefined;
    for (const s of streams.splice(0)) await jsm.streams.delete(s);
  });
  afterAll(async () => {
    await nc?.close();
  });

  /** A memory stream that takes `subject`. */
  async function stream(subject: string): Promise<string> {
    const name = uniqueName("stream").replace(/-/g, "_");
    await jsm.streams.add({ name, subjects: [subject], storage: StorageType.Memory });
    streams.push(name);
    return name;
  }

  async function start(settings: Record<string, string> = {}): Promise<{ herald: Herald; appId: string }> {
    const opened = await openBrokerHerald(settings);
    close = opened.close;
    return { herald: opened.herald, appId: opened.app.id };
  }

  it("publishes the exact body with the §4 headers as NATS headers; the stream's ack is the success, and the signature verifies", async () => {
    const subject = `${uniqueName("s")}.orders`;
    const name = await stream(subject);
    const { herald, appId } = await start();
    const endpoint = await herald.createEndpoint(appId, { url: `${BROKER}/${subject}`, secret: SECRET });
    const { message } = await publishPayload(herald, appId);

    const [attempt] = await attemptsOf(herald, endpoint.id, 1);
    expect(attempt).toMatchObject({ success: true, statusCode: null, errorKind: null });
    expect(JSON.parse(attempt!.responseBody!)).toEqual({ stream: name, seq: 1, duplicate: false });

    const stored = await jsm.streams.getMessage(name, { seq: 1 });
    expect(stored.subject).toBe(subject);
    const body = Buffer.from(stored.data);
    expect(body.equals(Buffer.from(PAYLOAD, "utf8"))).toBe(true);
    expectWireHeaders(headerObject(stored.header), message.id, "order.created", body);
  });

  it("a subject no stream takes is a failed attempt that says so, retried on the schedule: the retry succeeds once a stream exists", async () => {
    const subject = uniqueName("nostream");
    const { herald, appId } = await start();
    const endpoint = await herald.createEndpoint(appId, { url: `${BROKER}/${subject}`, secret: SECRET });
    await publishPayload(herald, appId);
    const [first] = await attemptsOf(herald, endpoint.id, 1);
    expect(first).toMatchObject({ success: false, errorKind: "broker_rejected", attemptNumber: 1 });
    expect(first!.errorMessage).toBe(`no JetStream stream takes subject "${subject}" (NATS answered 503, no responders)`);

    const name = await stream(subject);
    const attempts = await eventually(async () => {
      const all = await attemptsOf(herald, endpoint.id, 2);
      return all.some((a) => a.success) ? all : null;
    });
    expect(attempts.at(-1)).toMatchObject({ success: true });
    const stored = await jsm.streams.getMessage(name, { seq: 1 });
    expect(Buffer.from(stored.data).toString("utf8")).toBe(PAYLOAD);
    expect(Number(stored.header.get("x-webhook-attempt"))).toBeGreaterThan(1);
  });

  it("a server that is down is a failed attempt, not a crash; a token in the URL never shows", async () => {
    const { herald, appId } = await start({ HERALD_RETRY_SCHEDULE: "0s" });
    const token = "nats-token-never-logged-51c";
    const down = await herald.createEndpoint(appId, { url: `nats://${token}@127.0.0.1:${await closedPort()}/orders`, secret: SECRET });
    await publishPayload(herald, appId);
    const [a] = await attemptsOf(herald, down.id, 1);
    expect(a).toMatchObject({ success: false, errorKind: "connection_refused" });
    expect(JSON.stringify(a)).not.toContain(token);
    expect(a!.url).toMatch(/^nats:\/\/\*\*\*@127\.0\.0\.1:\d+\/orders$/);
    expect(herald.dispatcher?.running).toBe(true);
  });

  it("keeps one connection per server, shared by subjects, and closes it when idle", async () => {
    const one = `${uniqueName("s")}.a`;
    const two = `${uniqueName("s")}.b`;
    await stream(one);
    await stream(two);
    const destination = new NatsDestination({ guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"] }), idleMs: 200 });
    try {
      const send = (subject: string) => destination.send({ url: new URL(`${BROKER}/${subject}`), headers: { "webhook-id": "msg_x" }, body: "{}", timeoutMs: 5000 });
      const results = await Promise.all([send(one), send(two), send(one)]);
      expect(results.map((r) => r.ok)).toEqual([true, true, true]);
      expect(destination.connections).toBe(1);
      await eventually(() => destination.connections === 0, 3000);
    } finally {
      await destination.close();
    }
  });

  it("goes through the SSRF guard: a loopback server is blocked unless its network is allowed", async () => {
    const destination = new NatsDestination();
    try {
      const result = await destination.send({ url: new URL(`${BROKER}/orders`), headers: {}, body: "{}", timeoutMs: 2000 });
      expect(result).toMatchObject({ ok: false, errorKind: "blocked" });
    } finally {
      await destination.close();
    }
  });
});
