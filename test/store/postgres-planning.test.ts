import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import type { Application, Endpoint } from "../../src/store/model.js";
import type { DeliveryJob, Store } from "../../src/store/store.js";
import { freshSchema, postgresAvailable, type TestSchema } from "../helpers/postgres.js";
import { app, claim, endpoint, held, message, succeeded, T0 } from "./fixtures.js";

const available = await postgresAvailable();

/**
 * What the lease-fenced statements read on a table whose statistics were taken
 * over a large, settled history (no pending delivery in the sample) while a
 * backlog is pending: their own rows, by primary key, and not every pending
 * delivery through the partial index `deliveries_due` (which those statistics
 * estimate at a row or two). Counted by PostgreSQL itself (index rows fetched).
 */
describe.skipIf(!available)("postgres: lease-fenced statements over a settled history", () => {
  const HISTORY = 20_000;
  const BACKLOG = 2_000;
  const BATCH = 50;
  let schema: TestSchema;
  let store: Store;
  let a: Application;
  let e: Endpoint;
  let jobs: DeliveryJob[];

  /** Index rows fetched from, and rows updated in, `deliveries` (all its partitions, if it has any) as PostgreSQL's statistics show them. */
  const counters = async () => {
    const [row] = await schema.query<{ fetched: number; updated: number }>(
      `SELECT sum(idx_tup_fetch)::float8 AS fetched, sum(n_tup_upd)::float8 AS updated FROM pg_stat_user_tables
       WHERE relid = 'deliveries'::regclass OR relid IN (SELECT relid FROM pg_partition_tree('deliveries'::regclass))`,
    );
    return row!;
  };
  /**
   * The counters once every connection of a closed store has reported (a backend
   * reports its statistics as it exits): the first reading past `since` that the
   * next one, a moment later, confirms.
   */
  const settled = async (since: { fetched: number; updated: number }) => {
    const deadline = Date.now() + 10_000;
    let last = await counters();
    for (;;) {
      await new Promise((r) => setTimeout(r, 150));
      const c = await counters();
      if (c.fetched > since.fetched && c.fetched === last.fetched && c.updated === last.updated) return c;
      if (Date.now() > deadline) throw new Error(`statistics did not settle (saw ${JSON.stringify(c)})`);
      last = c;
    }
  };

  beforeEach(async () => {
    schema = freshSchema();
    store = openPostgresStore(schema.url);
    await store.migrate();
    a = await app(store);
    e = await endpoint(store, a);
    // The settled history: delivered long ago, analyzed, no pending row in the sample.
    await schema.query(
      `INSERT INTO messages (id, app_id, event_type, payload, created_at)
       SELECT 'msg_0' || lpad(g::text, 25, '0'), $1, 'old.event', '{}', $2::bigint + g FROM generate_series(1, $3) g`,
      [a.id, T0 - 86_400_000, HISTORY],
    );
    await schema.query(
      `INSERT INTO deliveries (id, message_id, endpoint_id, app_id, status, attempts, schedule_index, created_at, updated_at)
       SELECT 'dlv_0' || lpad(g::text, 25, '0'), 'msg_0' || lpad(g::text, 25, '0'), $2, $1, 'succeeded', 1, 1, $3::bigint + g, $3::bigint + g
       FROM generate_series(1, $4) g`,
      [a.id, e.id, T0 - 86_400_000, HISTORY],
    );
    await schema.query("ANALYZE deliveries");
    // The backlog, then one batch of it leased.
    await store.publish(
      Array.from({ length: BACKLOG }, (_, i) => ({ message: message(a, {}, T0 + i) })),
      { now: T0 },
    );
    jobs = await claim(store, T0 + BACKLOG, { limit: BATCH });
    expect(jobs).toHaveLength(BATCH);
    await store.close();
  });

  afterEach(async () => {
    await schema.drop();
  });

  // Each statement runs on a store of its own, closed before the counters are read.
  it.each([
    ["checkLeases", () => store.checkLeases("w1", jobs.map(held), T0 + BACKLOG)],
    ["extendLeases", () => store.extendLeases("w1", jobs.map(held), T0 + 120_000)],
    ["complete", () => store.complete(jobs.map((j) => succeeded(j, T0 + BACKLOG)), T0 + BACKLOG)],
    ["releaseLeases", () => store.releaseLeases("w1", jobs.map(held), T0 + BACKLOG)],
  ])("%s reads the batch's own rows, not the backlog", async (name, run) => {
    const before = await settled({ fetched: 0, updated: 0 });
    expect(before.updated).toBeGreaterThanOrEqual(BATCH); // the claim has reported
    store = openPostgresStore(schema.url);
    await run();
    await store.close();
    const after = await settled(before);
    expect(after.fetched - before.fetched, `${name}: index rows fetched`).toBeLessThan(BACKLOG / 4);
  });
});
