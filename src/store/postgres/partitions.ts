import { idFloor } from "../retention.js";
import type { PgDb, Queryable } from "./db.js";

/**
 * The day partitions of deliveries and attempts (migration 11, docs/scaling.md
 * "Partitions on PostgreSQL"): added ahead of time, dropped whole by retention.
 */

/** Days of partitions kept ready after today's: a process that stops adding them (down, or its timer late) has that long before rows land in the DEFAULT partition. */
export const DAYS_AHEAD = 3;

/** How often a running store adds what is missing. */
export const ADD_EVERY_MS = 3_600_000;

/**
 * How long adding or dropping a partition may wait for a lock. Dropping takes
 * an exclusive lock on the partitioned table, adding one on the DEFAULT
 * partition (which every claim reads): while either waits, claims and
 * publishes queue behind it. Better to give up and try again at the next turn.
 */
const LOCK_TIMEOUT = "200ms";

const LOCK_NOT_AVAILABLE = "55P03";

/**
 * Adds the day partitions from today to `DAYS_AHEAD` days on. Processes do it
 * one at a time (an advisory lock: the second finds them there); one that would
 * wait for the tables' locks gives up, and the next turn (an hour later) tries
 * again. Returns the partitions created.
 */
export async function addPartitions(db: PgDb, now = Date.now()): Promise<number> {
  try {
    return await db.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`herald:partitions:${db.schema}`]);
      await c.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      const { rows } = await c.query<{ n: number }>("SELECT herald_add_partitions($1, $2) AS n", [now, DAYS_AHEAD]);
      return rows[0]?.n ?? 0;
    });
  } catch (err) {
    if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) return 0;
    throw err;
  }
}

interface PartitionRow {
  name: string;
  parent: "deliveries" | "attempts";
  bound: string;
  rows: number;
}

/** The upper bound of a range partition (`FOR VALUES FROM (…) TO ('atmpt_01…')`); null for DEFAULT. */
const upperBound = (bound: string): string | null => /TO \('([^']*)'\)$/.exec(bound)?.[1] ?? null;

/**
 * Drops the oldest partition that lies wholly before `before`, if there is
 * one: one of attempts always; one of deliveries only when none of its rows is
 * pending (their messages are still needed; the partition stays until they
 * are done). Runs in the caller's transaction; gives up (returns 0) rather
 * than wait for the lock. Returns the rows it held, as PostgreSQL estimates
 * them (at least 1), or 0 when it dropped nothing.
 */
export async function dropOldPartition(c: Queryable, schema: string, before: number): Promise<number> {
  const { rows } = await c.query<PartitionRow>(
    `SELECT child.relname AS name, parent.relname AS parent, pg_get_expr(child.relpartbound, child.oid) AS bound,
       greatest(child.reltuples, 1)::float8 AS rows
     FROM pg_inherits i
     JOIN pg_class child ON child.oid = i.inhrelid
     JOIN pg_class parent ON parent.oid = i.inhparent
     JOIN pg_namespace n ON n.oid = parent.relnamespace
     WHERE n.nspname = $1 AND parent.relname IN ('deliveries', 'attempts') AND child.relkind = 'r'`,
    [schema],
  );
  const old = rows
    .map((r) => ({ ...r, upper: upperBound(r.bound) }))
    .filter((r) => r.upper !== null && r.upper <= idFloor(r.parent === "attempts" ? "atmpt" : "msg", before))
    .sort((a, b) => (a.upper! < b.upper! ? -1 : 1));
  for (const p of old) {
    const table = `"${p.name.replaceAll('"', '""')}"`;
    const pending = async () =>
      p.parent === "deliveries" && (await c.query(`SELECT 1 FROM ${table} WHERE status = 'pending' LIMIT 1`)).rows.length > 0;
    if (await pending()) continue;
    await c.query("SAVEPOINT herald_drop");
    try {
      await c.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      // Looked at again under the lock: no delivery of it can turn pending (a resend) between the look and the drop.
      await c.query(`LOCK TABLE ONLY ${p.parent} IN ACCESS EXCLUSIVE MODE`);
      if (await pending()) {
        await c.query("ROLLBACK TO SAVEPOINT herald_drop");
        continue;
      }
      await c.query(`ALTER TABLE ${p.parent} DETACH PARTITION ${table}`);
      await c.query(`DROP TABLE ${table}`);
      await c.query("RELEASE SAVEPOINT herald_drop");
      return p.rows;
    } catch (err) {
      await c.query("ROLLBACK TO SAVEPOINT herald_drop");
      if ((err as { code?: string }).code === LOCK_NOT_AVAILABLE) return 0;
      throw err;
    }
  }
  return 0;
}
