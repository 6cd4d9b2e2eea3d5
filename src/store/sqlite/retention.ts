import { idFloor } from "../retention.js";
import type { Db } from "./db.js";

/**
 * One bounded retention batch (see `Store.purge`): one short write
 * transaction; the id ranges use the primary keys, since ids sort by time.
 */
export function purge(db: Db, before: number, limit: number): number {
  return db.tx(() => {
    let n = db.run(
      "DELETE FROM attempts WHERE id IN (SELECT id FROM attempts WHERE id < ? ORDER BY id LIMIT ?)",
      idFloor("atmpt", before), limit,
    ).changes;
    n += db.run(
      "DELETE FROM operational_events WHERE id IN (SELECT id FROM operational_events WHERE id < ? ORDER BY id LIMIT ?)",
      idFloor("opev", before), limit,
    ).changes;
    // A message stays while any delivery of it is pending: its payload is still needed.
    const gone = db.all<{ id: string }>(
      `SELECT id FROM messages m WHERE id < ?
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status = 'pending')
       ORDER BY id LIMIT ?`,
      idFloor("msg", before), limit,
    );
    if (gone.length === 0) return n;
    const ids = JSON.stringify(gone.map((m) => m.id));
    n += db.run("DELETE FROM attempts WHERE message_id IN (SELECT value FROM json_each(?))", ids).changes;
    // Deliveries go with their message (ON DELETE CASCADE).
    n += db.run("DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))", ids).changes;
    return n;
  });
}
