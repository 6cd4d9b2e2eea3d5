import { join } from "node:path";
import Database from "better-sqlite3";
import { Pool } from "undici";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/core/errors.js";
import { Herald } from "../../src/herald.js";
import { eventually, silentLogger, tempDir } from "../helpers/herald.js";
import { TEST_STORE } from "../helpers/postgres.js";
import { type Spawned, adminPoster, freePort, spawnHerald } from "../helpers/process.js";
import { parsePrometheus } from "../helpers/prometheus.js";
import { startReceiver } from "../helpers/receiver.js";

const KEY = "delivery-thread-admin-key-0123456789";

/**
 * With `HERALD_DELIVERY_THREAD=on`, `herald serve` delivers from a thread of its
 * own (docs/architecture.md): the API keeps the main thread. What the thread does must look, from outside,
 * exactly like delivery on the main thread: signed deliveries, attempts in
 * `/metrics`, a graceful stop that finishes what is in flight, the SQLite
 * file's delivery lock.
 */
describe.skipIf(TEST_STORE === "postgres")("delivery thread", () => {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function serve(extra: Record<string, string> = {}, args: string[] = ["serve"]) {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const port = await freePort();
    const env = {
      HERALD_DATABASE_URL: `sqlite:${join(dir, "herald.db")}`,
      HERALD_PORT: String(port),
      HERALD_API_KEY: KEY,
      HERALD_ALLOWED_NETWORKS: "127.0.0.0/8",
      HERALD_LOG_LEVEL: "info",
      ...extra,
    };
    const herald = spawnHerald(args, env, dir);
    cleanups.push(() => herald.child.kill("SIGKILL"));
    return { herald, port, env, dir };
  }

  async function publishTo(port: number, receiverUrl: string, messages: number) {
    const api = adminPoster(port, KEY, 8);
    cleanups.push(() => api.close());
    await api.call("/applications", { name: "thread", uid: "thread" });
    const endpoint = await api.call<{ id: string; secret: string }>("/applications/thread/endpoints", { url: `${receiverUrl}/hook` });
    for (let i = 0; i < messages; i++) await api.call("/applications/thread/messages", { eventType: "order.created", payload: { i } });
    return endpoint;
  }

  async function metrics(port: number): Promise<Map<string, number>> {
    const pool = new Pool(`http://127.0.0.1:${port}`);
    try {
      const res = await pool.request({ method: "GET", path: "/metrics" });
      return parsePrometheus(await res.body.text());
    } finally {
      await pool.close();
    }
  }

  it("delivers from its own thread when asked: signed deliveries, and their attempts counted in /metrics", async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const { herald, port } = await serve({ HERALD_DELIVERY_THREAD: "on" });
    await herald.waitFor(/delivering from a thread of its own/);
    await herald.waitFor(/listening on/);
    const endpoint = await publishTo(port, receiver.url, 20);
    const received = await receiver.waitFor(20);
    const wh = new Webhook(endpoint.secret);
    for (const r of received) expect(() => wh.verify(r.body, r.headers as Record<string, string>)).not.toThrow();
    // The thread's attempts reach the main thread's registry (gathered before each scrape).
    const m = await eventually(async () => {
      const s = await metrics(port);
      return (s.get('herald_attempts_total{outcome="success",status_class="2xx"}') ?? 0) >= 20 ? s : null;
    });
    expect(m.get('herald_attempts_total{outcome="success",status_class="2xx"}')).toBe(20);
    expect(m.get('herald_attempt_duration_seconds_count{outcome="success"}')).toBe(20);
    expect(m.get('herald_messages_published_total{result="created"}')).toBe(20);
  });

  it("by default (or off) delivers on the main thread; a wrong value is one line and exit code 2", async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const { herald, port } = await serve();
    await herald.waitFor(/listening on/);
    await publishTo(port, receiver.url, 3);
    await receiver.waitFor(3);
    expect(herald.output()).not.toMatch(/thread of its own/);

    const wrong = await serve({ HERALD_DELIVERY_THREAD: "maybe" });
    expect(await wrong.herald.exited).toBe(2);
    expect(wrong.herald.output().trim()).toBe('herald: HERALD_DELIVERY_THREAD: expected on or off, got "maybe"');
  });

  it("a graceful stop lets the thread finish an attempt in flight and record it", async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    const receiver = await startReceiver(async (_req, res) => {
      await held;
      res.end("ok");
    });
    cleanups.push(() => receiver.close());
    const { herald, port, env, dir } = await serve({ HERALD_DELIVERY_THREAD: "on" });
    await herald.waitFor(/listening on/);
    await publishTo(port, receiver.url, 1);
    await receiver.waitFor(1);
    herald.child.kill("SIGTERM");
    setTimeout(release, 300);
    expect(await herald.exited).toBe(0);
    // Reopened on the main thread: the attempt the thread finished during the stop is recorded.
    const again = spawnHerald(["serve"], { ...env, HERALD_DELIVERY_THREAD: "off" }, dir);
    cleanups.push(() => again.child.kill("SIGKILL"));
    await again.waitFor(/listening on/);
    const pool = new Pool(`http://127.0.0.1:${port}`);
    cleanups.push(() => pool.close());
    const res = await pool.request({ method: "GET", path: "/api/v1/applications/thread/messages", headers: { authorization: `Bearer ${KEY}` } });
    const [message] = ((await res.body.json()) as { data: { id: string }[] }).data;
    const att = await pool.request({ method: "GET", path: `/api/v1/applications/thread/messages/${message!.id}/attempts`, headers: { authorization: `Bearer ${KEY}` } });
    const attempts = ((await att.body.json()) as { data: { statusCode: number }[] }).data;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.statusCode).toBe(200);
    expect(receiver.received).toHaveLength(1);
  });

  it("is refused with one line while another process delivers from the same file", async () => {
    const first = await serve({}, ["worker"]);
    await first.herald.waitFor(/delivering from/);
    const second: Spawned = spawnHerald(["serve"], { ...first.env, HERALD_DELIVERY_THREAD: "on", HERALD_PORT: String(await freePort()) }, first.dir);
    cleanups.push(() => second.child.kill("SIGKILL"));
    expect(await second.exited).toBe(1);
    expect(second.output().trim().split("\n")).toEqual([expect.stringMatching(/^herald: another Herald process is already delivering from .*herald\.db/)]);
  });

  it("in the library: follows HERALD_DELIVERY_THREAD where it applies, unless the option says otherwise", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const settings = { HERALD_DATABASE_URL: `sqlite:${join(dir, "setting.db")}`, HERALD_LOG_LEVEL: "silent", HERALD_DELIVERY_THREAD: "on" };
    const opened = async (options: Parameters<typeof Herald.open>[0]) => {
      const herald = await Herald.open(options);
      await herald.stop();
      return herald.dispatcher === null ? "thread" : "event loop";
    };
    expect(await opened({ settings })).toBe("thread");
    expect(await opened({ settings, deliveryThread: false })).toBe("event loop");
    // Ignored where a thread cannot apply, as by `herald serve`: an in-memory database.
    expect(await opened({ settings: { ...settings, HERALD_DATABASE_URL: "sqlite::memory:" } })).toBe("event loop");
    await expect(Herald.open({ settings, logger: silentLogger() })).rejects.toThrow(
      new ConfigError("HERALD_DELIVERY_THREAD=on: cannot be combined with logger (they cannot cross threads)"),
    );
    await expect(Herald.open({ settings: { ...settings, HERALD_DELIVERY_THREAD: "sometimes" } })).rejects.toThrow(
      new ConfigError('HERALD_DELIVERY_THREAD: expected on or off, got "sometimes"'),
    );
  });

  it("in the library: opt-in, refused with what cannot cross threads, and counted in the Herald's metrics", async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const settings = { HERALD_DATABASE_URL: `sqlite:${join(dir, "lib.db")}`, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8", HERALD_LOG_LEVEL: "silent" };
    await expect(Herald.open({ settings, deliveryThread: true, logger: silentLogger() })).rejects.toThrow(
      new ConfigError("deliveryThread: cannot be combined with logger (they cannot cross threads)"),
    );
    await expect(Herald.open({ settings: { HERALD_DATABASE_URL: "sqlite::memory:" }, deliveryThread: true })).rejects.toThrow(/in-memory SQLite database/);

    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const herald = await Herald.open({ settings, deliveryThread: true });
    cleanups.push(() => herald.stop());
    await herald.start();
    expect(herald.dispatcher).toBeNull();
    const app = await herald.createApplication({ name: "lib", uid: "lib" });
    await herald.createEndpoint(app.id, { url: `${receiver.url}/lib` });
    for (let i = 0; i < 5; i++) await herald.publish({ app: "lib", eventType: "order.created", payload: { i } });
    await receiver.waitFor(5);
    const text = await eventually(async () => {
      const { text } = await herald.metrics.scrape();
      return /herald_attempts_total\{outcome="success",status_class="2xx"\} 5\n/.test(text) ? text : null;
    });
    expect(text).toMatch(/herald_attempt_duration_seconds_count\{outcome="success"\} 5\n/);
    // Handed to the thread in memory by the publishes (leased to it as they were written), not claimed:
    // a claim would have moved each delivery's lease generation from 0.
    const db = new Database(join(dir, "lib.db"), { readonly: true });
    cleanups.push(() => db.close());
    // Counted as soon as each attempt ends; recorded by the next batch of completions.
    const rows = await eventually(() => {
      const all = db.prepare("SELECT status, lease_gen AS gen FROM deliveries").all() as { status: string; gen: number }[];
      return all.every((r) => r.status === "succeeded") ? all : null;
    });
    expect(rows).toEqual(Array.from({ length: 5 }, () => ({ status: "succeeded", gen: 0 })));
  });
});
