import pino from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { MessageId } from "../../src/core/ids.js";
import { type PostgresStore, openPostgresStore } from "../../src/store/postgres/index.js";
import { DAYS_AHEAD, addPartitions } from "../../src/store/postgres/partitions.js";
import { Retention } from "../../src/store/retention.js";
import { migrationsOf } from "../../src/store/sql/migrations.js";
import { type TestSchema, freshSchema, postgresAvailable } from "../helpers/postgres.js";
import { app, claim, endpoint, failed, idAt, publishOne, succeeded } from "./fixtures.js";
import { postgresRawAccess } from "./raw-access.js";

const available = await postgresAvailable();
const DAY = 86_400_000;
const dayName = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll("-", "");

describe.skipIf(!available)("PostgreSQL partitions (migration 11)", () => {
  let schema: TestSchema;
  let stores: PostgresStore[];
  beforeEach(() => {
    schema = freshSchema();
    stores = [];
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    await schema.drop();
  });
  const open = () => {
    const store = openPostgresStore(schema.url);
    stores.push(store);
    return store;
  };
  /** Partition name → its bound, of deliveries and attempts. */
  const partitions = async () =>
    Object.fromEntries(
      (
        await schema.query<{ name: string; bound: string }>(
          `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
           JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
           WHERE p.relnamespace = $1::regnamespace AND p.relname IN ('deliveries', 'attempts') AND c.relkind = 'r'`,
          [schema.schema],
        )
      ).map((r) => [r.name, r.bound]),
    );
  const whereIs = async (table: "deliveries" | "attempts", column: string, id: string) =>
    (await schema.query<{ t: string }>(`SELECT tableoid::regclass::text AS t FROM ${table} WHERE ${column} = $1`, [id]))[0]?.t;

  it("converts a database with data in place: the old rows become the history partition, and the store works on them", async () => {
    await schema.query(`CREATE SCHEMA ${schema.schema}`);
    await schema.query("CREATE TABLE herald_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL, checksum TEXT)");
    for (const m of migrationsOf("postgres").slice(0, 10)) {
      await schema.query(m.sql);
      await schema.query("INSERT INTO herald_migrations VALUES ($1, $2, 0, $3)", [m.id, m.name, m.checksum]);
    }
    const before = open();
    const now = Date.now();
    const a = await app(before);
    const ep = await endpoint(before, a);
    const done = (await publishOne(before, a, {}, now - 2 * DAY)).message;
    const [job] = await claim(before, now - 2 * DAY);
    await before.complete([succeeded(job!, now - 2 * DAY)], now - 2 * DAY);
    const waiting = (await publishOne(before, a, {}, now - DAY)).message;
    const [retry] = await claim(before, now - DAY);
    await before.complete([failed(retry!, now - DAY, now - 1000)], now - DAY);
    // Not made by Herald's clock: sorts after every day partition.
    await schema.query("INSERT INTO attempts SELECT 'atmpt_zzz', delivery_id, message_id, endpoint_id, app_id, 9, url, created_at, duration_ms, success FROM attempts LIMIT 1");
    const count = async () => (await schema.query<{ n: number }>("SELECT (SELECT count(*) FROM deliveries) + (SELECT count(*) FROM attempts) AS n"))[0]!.n;
    expect(await count()).toBe(5);

    const store = open();
    await store.migrate();

    expect(await count()).toBe(5);
    expect(await whereIs("deliveries", "message_id", done.id)).toBe("deliveries_history");
    expect(await whereIs("attempts", "message_id", waiting.id)).toBe("attempts_history");
    expect(await whereIs("attempts", "id", "atmpt_zzz")).toBe("attempts_default");
    expect((await store.listDeliveries(done.id)).map((d) => d.status)).toEqual(["succeeded"]);
    const [again] = await claim(store, now);
    expect(again!.message.id).toBe(waiting.id);
    await store.complete([succeeded(again!, now)], now);
    expect((await store.listDeliveries(waiting.id)).map((d) => [d.status, d.attempts])).toEqual([["succeeded", 2]]);
    await store.resend(done, ep.id, now);
    expect((await claim(store, now + 1)).map((j) => j.message.id)).toEqual([done.id]);
  });

  it("adds the day partitions ahead at start; an insert outside them lands in the DEFAULT partition", async () => {
    const store = open();
    await store.migrate();
    const now = Date.now();
    const names = Object.keys(await partitions());
    for (let i = 0; i <= DAYS_AHEAD; i++) {
      expect(names).toContain(`deliveries_${dayName(now + i * DAY)}`);
      expect(names).toContain(`attempts_${dayName(now + i * DAY)}`);
    }
    // A new database has no history partition: the conversion dropped its empty tables.
    expect(names).not.toContain("deliveries_history");
    expect(await addPartitions(store.db, now)).toBe(0); // already there

    const a = await app(store);
    await endpoint(store, a);
    const tomorrow = (await publishOne(store, a, {}, now + DAY)).message;
    const far = (await publishOne(store, a, {}, now + 400 * DAY)).message;
    expect(await whereIs("deliveries", "message_id", tomorrow.id)).toBe(`deliveries_${dayName(now + DAY)}`);
    expect(await whereIs("deliveries", "message_id", far.id)).toBe("deliveries_default");
    const jobs = await claim(store, now + 401 * DAY);
    await store.complete(jobs.map((j) => succeeded(j, now + 401 * DAY)), now + 401 * DAY);
    expect(await whereIs("attempts", "message_id", far.id)).toBe("attempts_default");

    // A day the DEFAULT partition already has rows of is skipped; the others are added.
    expect(await addPartitions(store.db, now + 400 * DAY)).toBe(2 * DAYS_AHEAD);
    expect(Object.keys(await partitions())).not.toContain(`deliveries_${dayName(now + 400 * DAY)}`);
  });

  it("retention drops whole old partitions, and keeps the one with a pending delivery and its message", async () => {
    const store = open();
    await store.migrate();
    const now = Date.now();
    // As a database created 45 days ago looks: day partitions from then on.
    await schema.query("SELECT herald_add_partitions($1, 50)", [now - 45 * DAY]);
    const a = await app(store);
    await endpoint(store, a);
    const old = now - 40 * DAY;
    const delivered = (await publishOne(store, a, {}, old)).message;
    const jobs = await claim(store, old);
    await store.complete(jobs.map((j) => succeeded(j, old + 1000)), old + 1000);
    const stuck = (await publishOne(store, a, { id: idAt("msg", old - DAY) as MessageId }, old - DAY)).message;
    const recent = (await publishOne(store, a, {}, now - DAY)).message;

    const retention = new Retention({ store, logger: pino({ level: "silent" }), maxAgeMs: 30 * DAY, batch: 100, pauseMs: 1 });
    expect(await retention.runOnce(now)).toBeGreaterThan(0);
    const left = Object.keys(await partitions());

    expect(left).not.toContain(`deliveries_${dayName(old)}`);
    expect(left).not.toContain(`attempts_${dayName(old)}`);
    expect(left).not.toContain(`attempts_${dayName(old - DAY)}`);
    expect(left).toContain(`deliveries_${dayName(old - DAY)}`); // pending
    expect(left).toContain(`deliveries_${dayName(now - 29 * DAY)}`); // not wholly before the cutoff
    expect(left).toContain("deliveries_default");
    expect(await store.getMessage(a.id, delivered.id)).toBeNull();
    expect((await store.getMessage(a.id, stuck.id))?.id).toBe(stuck.id);
    expect((await store.listDeliveries(stuck.id)).map((d) => d.status)).toEqual(["pending"]);
    expect((await store.getMessage(a.id, recent.id))?.id).toBe(recent.id);
    // Once the last pending delivery is done, the next pass drops its partition too.
    const pending = await claim(store, now);
    await store.complete(pending.map((j) => succeeded(j, now)), now);
    await retention.runOnce(now);
    expect(Object.keys(await partitions())).not.toContain(`deliveries_${dayName(old - DAY)}`);
    expect(await store.getMessage(a.id, stuck.id)).toBeNull();
    await retention.stop();
  });

  it("a partition drop that would wait for the table gives up within a moment; delivery goes on meanwhile", async () => {
    const store = open();
    await store.migrate();
    const now = Date.now();
    const old = now - 40 * DAY;
    await schema.query("SELECT herald_add_partitions($1, 0)", [old]); // that day alone
    const a = await app(store);
    await endpoint(store, a);
    const gone = (await publishOne(store, a, {}, old)).message;
    const jobs = await claim(store, old);
    await store.complete(jobs.map((j) => succeeded(j, old)), old);
    // A long reader of the deliveries (an API listing, a report) holds a lock a drop must wait for.
    const reader = await postgresRawAccess(schema).hold!("SELECT count(*) FROM deliveries");
    try {
      expect(await store.purge(now - 30 * DAY, 100)).toBeGreaterThan(0); // the attempts' day: not locked
      const started = Date.now();
      await store.purge(now - 30 * DAY, 100); // the deliveries' day: gives up, deletes rows instead
      expect(Date.now() - started).toBeLessThan(2000);
      expect(Object.keys(await partitions())).toContain(`deliveries_${dayName(old)}`);
      expect(await store.getMessage(a.id, gone.id)).toBeNull();
      await publishOne(store, a, {}, now);
      expect(await claim(store, now)).toHaveLength(1);
    } finally {
      await reader.commit();
    }
    await store.purge(now - 30 * DAY, 100);
    expect(Object.keys(await partitions())).not.toContain(`deliveries_${dayName(old)}`);
  });
});
