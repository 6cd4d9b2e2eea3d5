import { idFloor } from "../retention.js";
import type { PgDb } from "./db.js";
import { dropOldPartition } from "./partitions.js";

/**
 * One bounded retention batch (see `Store.purge`). Only one process purges a
 * schema at a time (a try-lock: the others skip their turn rather than queue
 * up behind it). Whole day partitions older than `before` go first, one per
 * batch (see `dropOldPartition`); then rows, by id range (ids sort by time):
 * those of the day that straddles `before`, operational events, and the
 * messages whose deliveries are all done, with what remains of theirs.
 */
export async function purge(db: PgDb, before: number, limit: number): Promise<number> {
  return db.tx(
    async (c) => {
      const { rows } = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok", [
        `herald:purge:${db.schema}`,
      ]);
      if (!rows[0]?.ok) return 0;
      const dropped = await dropOldPartition(c, db.schema, before);
      if (dropped > 0) return dropped;
      const attempts = await c.query("DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < $1 ORDER BY id LIMIT $2)", [
        idFloor("atmpt", before),
        limit,
      ]);
      const events = await c.query(
        "DELETE FROM operational_events WHERE id IN (SELECT id FROM operational_events WHERE id < $1 ORDER BY id LIMIT $2)",
        [idFloor("opev", before), limit],
      );
      // A message stays while any delivery of it is pending: its payload is still needed.
      // Its deliveries go with it (the foreign key's cascade, in its own partition).
      const messages = await c.query<{ n: number }>(
        `WITH gone AS (
           DELETE FROM messages WHERE id IN (
             SELECT id FROM messages m WHERE id < $1
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status = 'pending')
             ORDER BY id LIMIT $2)
           RETURNING id),
         a AS (DELETE FROM attempts WHERE message_id IN (SELECT id FROM gone) RETURNING 1)
         SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM a) AS n`,
        [idFloor("msg", before), limit],
      );
      return (attempts.rowCount ?? 0) + (events.rowCount ?? 0) + Number(messages.rows[0]?.n ?? 0);
    },
    { queue: true },
  );
}
