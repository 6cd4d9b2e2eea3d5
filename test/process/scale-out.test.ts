import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sleep } from "../helpers/herald.js";
import { freshSchema, postgresAvailable, type TestSchema } from "../helpers/postgres.js";
import { adminPoster, freePort, type Spawned, spawnHerald } from "../helpers/process.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

const API_KEY = "test-admin-key-0123456789";
const available = await postgresAvailable();

/**
 * Scale-out on PostgreSQL, with real processes: one `herald serve --role api`
 * and several `herald worker`s on one database. Healthy, every delivery is
 * made exactly once; when a worker is killed with SIGKILL mid-attempt, the
 * others take its work over (its presence lock is gone) and nothing is lost.
 */
describe.skipIf(!available)("scale-out: one API process, several workers, one PostgreSQL", () => {
  let schema: TestSchema;
  let receiver: Receiver;
  let processes: Spawned[];
  /** Per webhook-id and endpoint path: how many times it arrived. */
  let seen: Map<string, number>;
  /** Per webhook-id and endpoint path: when it first arrived. */
  let firstAt: Map<string, number>;
  let open: number;

  beforeEach(async () => {
    schema = freshSchema();
    processes = [];
    seen = new Map();
    firstAt = new Map();
    open = 0;
    receiver = await startReceiver((r, res) => {
      const key = `${r.headers["webhook-id"]} ${r.path}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (!firstAt.has(key)) firstAt.set(key, Date.now());
      open++;
      setTimeout(() => {
        open--;
        res.end();
      }, 40);
    });
  });
  afterEach(async () => {
    for (const p of processes) if (p.child.exitCode === null) p.child.kill("SIGKILL");
    await Promise.all(processes.map((p) => p.exited));
    await receiver.close();
    await schema.drop();
  });

  async function start(workers: number) {
    const port = await freePort();
    const env = { HERALD_DATABASE_URL: schema.url, HERALD_PORT: String(port), HERALD_API_KEY: API_KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" };
    const api = spawnHerald(["serve", "--role", "api"], env);
    processes.push(api);
    await api.waitFor(/listening on/, 15_000);
    const ws = Array.from({ length: workers }, () => spawnHerald(["worker"], env));
    processes.push(...ws);
    await Promise.all(ws.map((w) => w.waitFor(/worker delivering/, 15_000)));
    const { call, close } = adminPoster(port, API_KEY, 16);
    await call("/applications", { name: "scale", uid: "scale" });
    for (let i = 0; i < 3; i++) await call("/applications/scale/endpoints", { url: `${receiver.url}/ep${i}` });
    return { workers: ws, call, close };
  }

  async function publish(call: (path: string, body: unknown) => Promise<{ id: string }>, n: number): Promise<string[]> {
    const ids: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < n) {
          next++;
          ids.push((await call("/applications/scale/messages", { eventType: "scale.tick", payload: { i: next } })).id);
        }
      }),
    );
    return ids;
  }

  const missing = (ids: string[]) => ids.flatMap((id) => [0, 1, 2].filter((i) => !seen.has(`${id} /ep${i}`)).map((i) => `${id} /ep${i}`));
  const duplicates = () => [...seen].filter(([, n]) => n > 1).map(([key]) => key);

  async function waitDelivered(ids: string[], timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    while (missing(ids).length > 0 && Date.now() < deadline) await sleep(50);
    expect(missing(ids)).toEqual([]);
  }

  it("delivers every message exactly once while all processes are healthy", async () => {
    const { call, close } = await start(3);
    const ids = await publish(call, 300);
    await waitDelivered(ids, 20_000);
    await close();
    await sleep(300);
    expect(seen.size).toBe(900);
    expect(duplicates()).toEqual([]);
  }, 60_000);

  it("loses nothing when a worker is killed with SIGKILL mid-attempt", async () => {
    const { workers, call, close } = await start(2);
    const publishing = publish(call, 400);
    while (seen.size < 150 || open === 0) await sleep(2);
    workers[0]!.child.kill("SIGKILL");
    const killedAt = Date.now();
    const ids = await publishing;
    // The survivor finds the dead worker's leases by its vanished presence lock (every 5 s), not after the 60 s lease.
    await waitDelivered(ids, 20_000);
    // Attempts the kill cut off reached the receiver but were never recorded: the
    // survivor must make them again and record them, so every delivery ends succeeded.
    const deadline = Date.now() + 20_000;
    const unfinished = async () => Number((await schema.query("SELECT count(*) AS n FROM deliveries WHERE status <> 'succeeded'"))[0]!.n);
    while ((await unfinished()) > 0 && Date.now() < deadline) await sleep(100);
    expect(await unfinished()).toBe(0);
    await close();
    expect(seen.size).toBe(1200);
    // Duplicates only of attempts the kill cut off or whose batched bookkeeping
    // (every 10 ms) it lost: their first arrival was right before the kill.
    const early = duplicates().filter((key) => firstAt.get(key)! < killedAt - 1000);
    expect(early).toEqual([]);
    expect(Date.now() - killedAt).toBeLessThan(20_000);
  }, 60_000);
});
