import { Pool } from "undici";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { startReceiver } from "../helpers/receiver.js";
import { sleep, tempDir, testDatabase } from "../helpers/herald.js";
import { freePort, spawnHerald } from "../helpers/process.js";

const API_KEY = "test-admin-key-0123456789";

/**
 * The durability guarantee, end to end: every publish that got a 202 is
 * delivered, even when the server is killed with SIGKILL in the middle of a
 * publish storm with attempts in flight.
 */
describe("crash safety", () => {
  const { dir, cleanup } = tempDir();
  afterAll(cleanup);

  it("delivers every acknowledged message after a SIGKILL mid-storm and a restart", async () => {
    /** Endpoint paths that received each message id (a duplicate adds nothing). */
    const seen = new Map<string, Set<string>>();
    /** Requests not answered yet: attempts in flight. */
    let open = 0;
    // A slowish receiver keeps attempts in flight when the kill lands, and one slow endpoint (32 attempts
    // in flight, 100 ms each: at most 320 a second) keeps acknowledged messages waiting whatever the
    // machine's speed, so the restart has queued work to finish, not only cut-off attempts.
    const receiver = await startReceiver((r, res) => {
      const id = String(r.headers["webhook-id"]);
      if (!seen.has(id)) seen.set(id, new Set());
      seen.get(id)!.add(r.path);
      open++;
      setTimeout(
        () => {
          open--;
          res.end();
        },
        r.path.startsWith("/ep2") ? 100 : 5,
      );
    });
    const port = await freePort();
    // SQLite, or PostgreSQL under HERALD_TEST_STORE=postgres: there the restarted
    // server sees that the killed one's presence lock is gone and takes its leases back at once.
    const db = await testDatabase(dir);
    onTestFinished(() => db.drop());
    const env = {
      HERALD_DATABASE_URL: db.url,
      HERALD_PORT: String(port),
      HERALD_API_KEY: API_KEY,
      HERALD_ALLOWED_NETWORKS: "127.0.0.0/8",
    };
    let server = spawnHerald(["serve"], env);
    await server.waitFor(/listening on/);
    const api = new Pool(`http://127.0.0.1:${port}`, { connections: 16 });
    const call = async (method: "POST" | "GET", path: string, body?: unknown) => {
      const res = await api.request({
        method,
        path: `/api/v1${path}`,
        headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    };
    const app = await call("POST", "/applications", { name: "crash", uid: "crash" });
    expect(app.status).toBe(201);
    for (let i = 0; i < 3; i++) {
      expect((await call("POST", "/applications/crash/endpoints", { url: `${receiver.url}/ep${i}` })).status).toBe(201);
    }

    // Publish storm: 16 concurrent publishers; kill the server once enough were acknowledged.
    const acknowledged = new Set<string>();
    let stop = false;
    const publisher = async (w: number) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await call("POST", "/applications/crash/messages", { eventType: "storm.tick", payload: { w, i } });
          if (r.status === 202) acknowledged.add(String(r.body.id));
        } catch {
          return; // the server died under us: this publish was never acknowledged
        }
      }
    };
    const publishers = Array.from({ length: 16 }, (_, w) => publisher(w));
    const missing = () => [...acknowledged].filter((id) => (seen.get(id)?.size ?? 0) < 3);
    while (acknowledged.size < 600 || open === 0) await sleep(1);
    const inFlightAtKill = open;
    server.child.kill("SIGKILL");
    stop = true;
    await server.exited;
    await Promise.all(publishers);
    await api.close();
    const missingBeforeRestart = missing().length;

    server = spawnHerald(["serve"], env);
    await server.waitFor(/listening on/);
    const deadline = Date.now() + 30_000;
    while (missing().length > 0 && Date.now() < deadline) await sleep(50);
    // Attempts the kill cut off reached the receiver but were never recorded: the
    // restarted server must make them again, so every delivery ends succeeded.
    const unfinished = async () => (await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries WHERE status <> 'succeeded'"))[0]!.n;
    while ((await unfinished()) > 0 && Date.now() < deadline) await sleep(50);
    expect(await unfinished()).toBe(0);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    await receiver.close();

    expect(acknowledged.size).toBeGreaterThanOrEqual(600);
    expect(missing()).toEqual([]);
    // The kill really interrupted work: attempts were in flight, and (on SQLite, whose
    // publishes outrun the slow endpoint) acknowledged messages were still undelivered.
    expect(inFlightAtKill).toBeGreaterThan(0);
    if (db.url.startsWith("sqlite:")) expect(missingBeforeRestart).toBeGreaterThan(0);
  }, 60_000);
});
