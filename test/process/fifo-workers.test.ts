import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Arrivals, startArrivalsReceiver, upTo } from "../helpers/fifo-receiver.js";
import { eventually, tempDir, type TestDatabase, testDatabase } from "../helpers/herald.js";
import { freshSchema, postgresAvailable } from "../helpers/postgres.js";
import { adminPoster, freePort, type Spawned, spawnHerald } from "../helpers/process.js";

const API_KEY = "test-admin-key-0123456789";
const available = await postgresAvailable();

/** The arrivals with repeats of the same message in a row collapsed: an attempt cut off by a kill is made again (at-least-once). */
const collapsed = (order: number[]): number[] => order.filter((n, i) => i === 0 || order[i - 1] !== n);

/**
 * FIFO order across real processes: several `herald worker`s on one
 * PostgreSQL schema never deliver two messages of one FIFO endpoint at once
 * nor out of order, and neither does a SIGKILL of the process delivering
 * (then a restart), on either store.
 */
describe("FIFO endpoints across processes", () => {
  let processes: Spawned[];
  let receiver: Awaited<ReturnType<typeof startArrivalsReceiver>>;
  let db: TestDatabase | undefined;
  let cleanup: (() => void) | undefined;

  beforeEach(async () => {
    processes = [];
    receiver = await startArrivalsReceiver({ delayMs: 5 });
  });
  afterEach(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.exited));
    await receiver.close();
    await db?.drop();
    cleanup?.();
    db = undefined;
    cleanup = undefined;
  });

  function env(url: string, port: number) {
    return { HERALD_DATABASE_URL: url, HERALD_PORT: String(port), HERALD_API_KEY: API_KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" };
  }

  /** An app with a FIFO endpoint (`/fifo`) and a plain one (`/plain`); `publish(ns)` publishes one batch, in order. */
  async function setUp(port: number) {
    const { call, close } = adminPoster(port, API_KEY, 4);
    await call("/applications", { name: "fifo", uid: "fifo" });
    const ep = await call("/applications/fifo/endpoints", { url: `${receiver.url}/fifo`, ordering: "fifo" });
    expect(ep.ordering).toBe("fifo");
    await call("/applications/fifo/endpoints", { url: `${receiver.url}/plain` });
    return {
      publish: (ns: number[]) => call("/applications/fifo/messages/batch", { messages: ns.map((n) => ({ eventType: "order.updated", payload: { n } })) }),
      close,
    };
  }

  const fifo = (): Arrivals => receiver.at("/fifo");

  it.skipIf(!available)("two workers on one PostgreSQL schema deliver a FIFO endpoint's messages one at a time, in order", async () => {
    const schema = freshSchema();
    db = { url: schema.url, query: async () => [], drop: schema.drop };
    const port = await freePort();
    const api = spawnHerald(["serve", "--role", "api"], env(schema.url, port));
    processes.push(api);
    await api.waitFor(/listening on/, 15_000);
    const workers = [spawnHerald(["worker"], env(schema.url, port)), spawnHerald(["worker"], env(schema.url, port))];
    processes.push(...workers);
    await Promise.all(workers.map((w) => w.waitFor(/worker delivering/, 15_000)));
    const client = await setUp(port);
    for (let i = 0; i < 6; i++) await client.publish(upTo(25).map((n) => n + 25 * i));
    await client.close();

    await eventually(() => fifo().order.length >= 150 && receiver.at("/plain").order.length >= 150, 45_000, 50);
    expect(fifo().order).toEqual(upTo(150));
    expect(fifo().maxConcurrent).toBe(1);
    expect(receiver.at("/plain").maxConcurrent).toBeGreaterThan(1);
  }, 60_000);

  it("keeps the order through a SIGKILL of the delivering process and a restart", async () => {
    const dir = tempDir();
    cleanup = dir.cleanup;
    db = await testDatabase(dir.dir); // SQLite, or PostgreSQL under HERALD_TEST_STORE=postgres
    const port = await freePort();
    let server = spawnHerald(["serve"], env(db.url, port));
    processes.push(server);
    await server.waitFor(/listening on/, 15_000);
    const client = await setUp(port);
    for (let i = 0; i < 4; i++) await client.publish(upTo(25).map((n) => n + 25 * i));
    await client.close();

    // Kill it while a FIFO attempt is open at the receiver, midway.
    await eventually(() => fifo().order.length >= 30 && fifo().open > 0, 30_000, 1);
    server.child.kill("SIGKILL");
    await server.exited;
    const before = fifo().order.length;
    expect(before).toBeLessThan(100);

    server = spawnHerald(["serve"], env(db.url, port));
    processes.push(server);
    await server.waitFor(/listening on/, 15_000);
    await eventually(() => collapsed(fifo().order).length >= 100, 45_000, 50);
    expect(collapsed(fifo().order)).toEqual(upTo(100));
    expect(fifo().maxConcurrent).toBe(1);
  }, 90_000);
});
