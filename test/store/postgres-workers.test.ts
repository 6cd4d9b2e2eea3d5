import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type PostgresStore, openPostgresStore } from "../../src/store/postgres/index.js";
import { releaseOrphanedLeases } from "../../src/store/postgres/workers.js";
import { migrationsOf } from "../../src/store/sql/migrations.js";
import { eventually } from "../helpers/herald.js";
import { POSTGRES_URL, type TestSchema, freshSchema, postgresAvailable } from "../helpers/postgres.js";
import { T0, app, claim, endpoint, message, publishOne } from "./fixtures.js";

const available = await postgresAvailable();

/** What only a shared database has: wake-ups across processes, and workers seeing each other. */
describe.skipIf(!available)("PostgreSQL workers: NOTIFY and presence", () => {
  let schema: TestSchema;
  let stores: PostgresStore[];
  const open = async () => {
    const s = openPostgresStore(schema.url);
    stores.push(s);
    await s.migrate();
    return s;
  };

  beforeEach(() => {
    schema = freshSchema();
    stores = [];
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    await schema.drop();
  });

  it("wakes attached workers when deliveries become due elsewhere, at commit only", async () => {
    const publisher = await open();
    const worker = await open();
    const a = await app(publisher);
    const ep = await endpoint(publisher, a);
    let woken = 0;
    const detach = await worker.attachWorker("w1", () => woken++);
    try {
      const { message: m } = await publishOne(publisher, a);
      await eventually(() => woken >= 1, 2000);

      // A leased publish (for an in-process worker) wakes nobody.
      woken = 0;
      await publisher.publish([{ message: message(a) }], { now: T0, lease: { owner: "local", until: T0 + 60_000, max: 100 } });
      await new Promise((r) => setTimeout(r, 150));
      expect(woken).toBe(0);

      await publisher.resend(m, ep.id, T0);
      await eventually(() => woken >= 1, 2000);

      // In a transaction that rolls back: no wake-up, nothing stored.
      woken = 0;
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query("BEGIN");
        await publisher.publishWith(client, { app: a.id, eventType: "x.y", payload: "{}", channels: null, eventId: null }, { now: T0, firstDelayMs: 0 });
        await new Promise((r) => setTimeout(r, 150));
        expect(woken).toBe(0); // not before the commit
        await client.query("ROLLBACK");
      } finally {
        await client.end();
      }
      await new Promise((r) => setTimeout(r, 150));
      expect(woken).toBe(0);
      expect((await publisher.listMessages(a.id, { eventType: "x.y" }, { limit: 10 })).data).toEqual([]);
    } finally {
      await detach();
    }
  });

  it("takes back the leases of workers that are gone, at attach, and leaves live workers' alone", async () => {
    const s = await open();
    const a = await app(s);
    await endpoint(s, a);
    for (let i = 0; i < 4; i++) await publishOne(s, a, {}, Date.now());
    const now = Date.now();
    // "alive" is attached (holds its presence lock); "dead" attached once and was
    // killed: its row is there, its lock is not. "stranger" never attached.
    const detachAlive = await s.attachWorker("alive", () => {});
    await schema.query("INSERT INTO workers (owner, attached_at) VALUES ('dead', 0)");
    expect(await claim(s, now, { owner: "alive", limit: 2, leaseMs: 600_000 })).toHaveLength(2);
    expect(await claim(s, now, { owner: "dead", limit: 2, leaseMs: 600_000 })).toHaveLength(2);
    await publishOne(s, a, {}, now);
    expect(await claim(s, now, { owner: "stranger", limit: 1, leaseMs: 600_000 })).toHaveLength(1);
    let woken = 0;
    const other = await open();
    const detach = await other.attachWorker("newcomer", () => woken++);
    try {
      const back = await claim(other, Date.now(), { owner: "newcomer" });
      expect(back).toHaveLength(2); // the dead worker's, not the live one's
      expect(woken).toBeGreaterThan(0);

      // When "alive" dies (its connection closes, its row stays), its leases are orphans too.
      await schema.query("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = hashtext('alive')::oid");
      await eventually(async () => (await releaseOrphanedLeases(other.db, Date.now(), "newcomer")) === 2, 2000);
      expect(await releaseOrphanedLeases(other.db, Date.now(), "newcomer")).toBe(0);
      // The reaper never takes its own leases, even before its lock is seen.
      expect(await claim(other, Date.now(), { owner: "newcomer" })).toHaveLength(2);
      expect(await releaseOrphanedLeases(other.db, Date.now(), "newcomer")).toBe(0);
      // A clean detach forgets the worker; the stranger's lease runs out on its own.
      await detach();
      expect(await schema.query("SELECT owner FROM workers WHERE owner = 'newcomer'")).toEqual([]);
      expect(await claim(other, Date.now(), { owner: "x" })).toEqual([]);
    } finally {
      await detach();
      await detachAlive();
    }
  });

  it("applies migrations once when several processes start at once", async () => {
    const many = Array.from({ length: 4 }, () => openPostgresStore(schema.url));
    stores.push(...many);
    await Promise.all(many.map((s) => s.migrate()));
    // Each shipped migration recorded once (test/store/migrations.test.ts pins which they are).
    expect(await schema.query("SELECT id FROM herald_migrations ORDER BY id")).toEqual(migrationsOf("postgres").map((m) => ({ id: m.id })));
  });

  it("publishes past an endpoint deleted between reading the endpoints and writing the deliveries", async () => {
    const s = await open();
    const a = await app(s);
    const doomed = await endpoint(s, a);
    const kept = await endpoint(s, a);
    // The delete runs first but commits only after the publish has read the endpoints.
    const deleter = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema.schema}` });
    await deleter.connect();
    try {
      await deleter.query("BEGIN");
      await deleter.query("DELETE FROM endpoints WHERE id = $1", [doomed.id]);
      const published = publishOne(s, a);
      // The publish reads both endpoints (the delete is not committed), then its insert waits on the row.
      await eventually(
        async () => (await schema.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'"))[0]!.n > 0,
        5000,
      );
      await deleter.query("COMMIT");
      const { message: m } = await published;
      expect((await s.listDeliveries(m.id)).map((d) => d.endpointId)).toEqual([kept.id]);
    } finally {
      await deleter.end();
    }
  });

  it("survives its connection being cut inside a transaction, between two statements", async () => {
    const s = await open();
    const killer = new pg.Client({ connectionString: POSTGRES_URL });
    await killer.connect();
    try {
      const tx = s.db.tx(async (q) => {
        const [{ pid }] = (await q.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows as [{ pid: number }];
        await killer.query("SELECT pg_terminate_backend($1)", [pid]);
        // Idle in the transaction while the server cuts it: the 'error' event has no query to go to.
        await new Promise((r) => setTimeout(r, 300));
        await q.query("SELECT 1");
      });
      await expect(tx).rejects.toThrow();
      // The store goes on with a fresh connection (the process did not crash on an unhandled 'error').
      expect(await s.db.query<{ one: number }>("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    } finally {
      await killer.end();
    }
  });
});
