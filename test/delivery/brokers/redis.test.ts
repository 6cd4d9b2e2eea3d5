import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisDestination } from "../../../src/delivery/destinations/index.js";
import type { Herald } from "../../../src/herald.js";
import { SsrfGuard } from "../../../src/security/guard.js";
import { attemptsOf, brokerAvailable, closedPort, expectWireHeaders, openBrokerHerald, PAYLOAD, publishPayload, SECRET, uniqueName } from "../../helpers/brokers.js";
import { eventually } from "../../helpers/herald.js";

/** Redis Streams through Herald: runs on SQLite, and on PostgreSQL under HERALD_TEST_STORE=postgres. */
const up = await brokerAvailable("Redis");
const BROKER = "redis://127.0.0.1:6379";
const DB = 3;

describe.skipIf(!up)("redis: endpoints (Redis Streams XADD)", () => {
  let redis: Redis;
  const keys: string[] = [];
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    redis = new Redis({ host: "127.0.0.1", port: 6379, db: DB });
  });
  afterEach(async () => {
    await close?.();
    close = undefined;
    if (keys.length > 0) await redis.del(...keys.splice(0));
  });
  afterAll(async () => {
    await redis?.quit();
  });

  const key = (prefix: string) => {
    const k = uniqueName(prefix);
    keys.push(k);
    return k;
  };

  async function start(settings: Record<string, string> = {}): Promise<{ herald: Herald; appId: string }> {
    const opened = await openBrokerHerald(settings);
    close = opened.close;
    return { herald: opened.herald, appId: opened.app.id };
  }

  /** The stream's entries: the id, and the fields in order. */
  async function entries(stream: string): Promise<{ id: string; fields: string[] }[]> {
    const raw = await redis.xrangeBuffer(stream, "-", "+");
    return raw.map(([id, fields]) => ({ id: id.toString(), fields: fields.map((f) => f.toString("utf8")) }));
  }

  it("adds one entry, `body` first and then one field per §4 header; the entry id is the success, and the signature verifies", async () => {
    const stream = key("stream");
    const { herald, appId } = await start();
    const endpoint = await herald.createEndpoint(appId, { url: `${BROKER}/${DB}?stream=${stream}`, secret: SECRET });
    const { message } = await publishPayload(herald, appId);

    const [attempt] = await attemptsOf(herald, endpoint.id, 1);
    expect(attempt).toMatchObject({ success: true, statusCode: null, errorKind: null });
    const [entry, ...more] = await entries(stream);
    expect(more).toEqual([]);
    expect(attempt!.responseBody).toBe(entry!.id);

    const [first, body, ...rest] = entry!.fields;
    expect(first).toBe("body");
    const raw = (await redis.xrangeBuffer(stream, "-", "+"))[0]![1][1]!;
    expect(raw.equals(Buffer.from(PAYLOAD, "utf8"))).toBe(true);
    expect(body).toBe(PAYLOAD);
    const headers: Record<string, string> = {};
    for (let i = 0; i < rest.length; i += 2) headers[rest[i]!] = rest[i + 1]!;
    expectWireHeaders(headers, message.id, "order.created", raw);
  });

  it("a key of another type is a failed attempt with Redis's words, retried on the schedule: the retry succeeds once the key is free", async () => {
    const stream = key("wrongtype");
    await redis.set(stream, "not a stream");
    const { herald, appId } = await start();
    const endpoint = await herald.createEndpoint(appId, { url: `${BROKER}/${DB}?stream=${stream}`, secret: SECRET });
    await publishPayload(herald, appId);
    const [first] = await attemptsOf(herald, endpoint.id, 1);
    expect(first).toMatchObject({ success: false, errorKind: "broker_rejected", attemptNumber: 1 });
    expect(first!.errorMessage).toContain(`Redis refused XADD to "${stream}" (db ${DB}): WRONGTYPE`);

    await redis.del(stream);
    const attempts = await eventually(async () => {
      const all = await attemptsOf(herald, endpoint.id, 2);
      return all.some((a) => a.success) ? all : null;
    });
    expect(attempts.at(-1)).toMatchObject({ success: true });
    const [entry] = await entries(stream);
    expect(entry!.fields[1]).toBe(PAYLOAD);
  });

  it("a server that is down, or refuses the password, is a failed attempt; the password never shows", async () => {
    const { herald, appId } = await start({ HERALD_RETRY_SCHEDULE: "0s" });
    const password = "redis-password-never-logged-7e2";
    const down = await herald.createEndpoint(appId, { url: `redis://:${password}@127.0.0.1:${await closedPort()}/0?stream=s`, secret: SECRET });
    const refused = await herald.createEndpoint(appId, { url: `redis://nobody:${password}@127.0.0.1:6379/0?stream=s`, secret: SECRET });
    await publishPayload(herald, appId);
    const [a] = await attemptsOf(herald, down.id, 1);
    expect(a).toMatchObject({ success: false, errorKind: "connection_refused" });
    const [b] = await attemptsOf(herald, refused.id, 1);
    expect(b).toMatchObject({ success: false, errorKind: "auth" });
    expect(b!.errorMessage).toContain("WRONGPASS");
    for (const attempt of [a, b]) expect(JSON.stringify(attempt)).not.toContain(password);
    expect(herald.dispatcher?.running).toBe(true);
  });

  it("keeps one connection per server, user and database, and closes it when idle", async () => {
    const one = key("a");
    const two = key("b");
    const destination = new RedisDestination({ guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"] }), idleMs: 200 });
    try {
      const send = (url: string) => destination.send({ url: new URL(url), headers: { "webhook-id": "msg_x" }, body: "{}", timeoutMs: 5000 });
      const results = await Promise.all([send(`${BROKER}/${DB}?stream=${one}`), send(`${BROKER}/${DB}?stream=${two}`)]);
      expect(results.map((r) => r.ok)).toEqual([true, true]);
      expect(destination.connections).toBe(1);
      // Another database is another connection (SELECT binds a connection).
      expect((await send(`${BROKER}/${DB + 1}?stream=${one}`)).ok).toBe(true);
      expect(destination.connections).toBe(2);
      const other = new Redis({ host: "127.0.0.1", port: 6379, db: DB + 1 });
      await other.del(one);
      await other.quit();
      await eventually(() => destination.connections === 0, 3000);
    } finally {
      await destination.close();
    }
  });

  it("goes through the SSRF guard: a loopback server is blocked unless its network is allowed", async () => {
    const destination = new RedisDestination();
    try {
      const result = await destination.send({ url: new URL(`${BROKER}/0?stream=s`), headers: {}, body: "{}", timeoutMs: 2000 });
      expect(result).toMatchObject({ ok: false, errorKind: "blocked" });
    } finally {
      await destination.close();
    }
  });
});
