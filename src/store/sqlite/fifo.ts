import { UNNUMBERED_SEQ } from "../sql/fifo-seq.js";
import type { Db } from "./db.js";

/**
 * The queue of a FIFO endpoint (docs/delivery.md, "FIFO endpoints"), on SQLite.
 *
 * Each FIFO delivery has a `seq`, its place in the endpoint's queue. Of the
 * endpoint's pending deliveries, only the head (lowest `seq`) has a
 * `next_attempt_at`; the others are parked with none, so the claim (which
 * reads due rows only) never sees them, and stays the same statement as for
 * any other endpoint. Every change to a FIFO queue ends with `advance`, in the
 * same transaction: one writer at a time (SQLite), so no lock is needed.
 */

/** Takes `count` numbers of the endpoint's sequence; returns the first. */
export function takeSeq(db: Db, endpointId: string, count: number): number {
  const row = db.get<{ fifo_seq: number }>("UPDATE endpoints SET fifo_seq = fifo_seq + ? WHERE id = ? RETURNING fifo_seq", count, endpointId);
  return (row?.fifo_seq ?? count) - count + 1;
}

const ORDERING = "SELECT ordering FROM endpoints WHERE id = ?";
const ACTIVE = `SELECT id, lease_owner FROM deliveries
  WHERE endpoint_id = ? AND status = 'pending' AND seq IS NOT NULL AND next_attempt_at IS NOT NULL`;
const HEAD = `SELECT id, next_attempt_at FROM deliveries
  WHERE endpoint_id = ? AND status = 'pending' AND seq IS NOT NULL ORDER BY seq, id LIMIT 1`;
/** With `force`: the first not held by a worker (what is in flight was sent before the endpoint became FIFO). */
const FIRST_FREE = `SELECT id, next_attempt_at FROM deliveries
  WHERE endpoint_id = ? AND status = 'pending' AND seq IS NOT NULL AND lease_owner IS NULL ORDER BY seq, id LIMIT 1`;

/**
 * Makes the head of a FIFO endpoint's queue the one delivery that may be
 * claimed: parks any other that is due and not held by a worker, and makes
 * the head due at `dueAt` if it was parked. While a worker holds a delivery of
 * the endpoint, nothing is made due (the completion of that delivery advances
 * the queue), unless `force`: the endpoint just became FIFO, and what is in
 * flight was sent as before (its completion will not advance the queue), so
 * the first delivery not in flight is made due. Tells whether it made a delivery due.
 */
export function advance(db: Db, endpointId: string, dueAt: number, force = false): boolean {
  if (db.get<{ ordering: string }>(ORDERING, endpointId)?.ordering !== "fifo") return false;
  const active = db.all<{ id: string; lease_owner: string | null }>(ACTIVE, endpointId);
  if (!force && active.some((a) => a.lease_owner !== null)) return false;
  const head = db.get<{ id: string; next_attempt_at: number | null }>(force ? FIRST_FREE : HEAD, endpointId);
  if (!head) return false;
  for (const a of active) {
    if (a.id !== head.id && a.lease_owner === null) db.run("UPDATE deliveries SET next_attempt_at = NULL WHERE id = ?", a.id);
  }
  if (head.next_attempt_at !== null) return false;
  db.run("UPDATE deliveries SET next_attempt_at = ? WHERE id = ?", dueAt, head.id);
  return true;
}

/**
 * Deliveries of `endpointId` just put back to pending (resend, recover): on a
 * FIFO endpoint they join the queue at their original place, parked, and the
 * queue advances. A no-op for other endpoints.
 */
export function requeued(db: Db, endpointId: string, ids: readonly string[], now: number): void {
  if (ids.length === 0 || db.get<{ ordering: string }>(ORDERING, endpointId)?.ordering !== "fifo") return;
  db.run(
    `UPDATE deliveries SET seq = COALESCE(seq, ${UNNUMBERED_SEQ}), next_attempt_at = NULL
     WHERE id IN (SELECT value FROM json_each(?)) AND status = 'pending' AND lease_owner IS NULL`,
    JSON.stringify(ids),
  );
  advance(db, endpointId, now);
}

/**
 * An endpoint's ordering changed. To `fifo`: its pending deliveries get a
 * place by creation time, those not held by a worker are parked, and the head
 * is made due. To `none`: every parked delivery is due now.
 */
export function orderingChanged(db: Db, endpointId: string, ordering: "none" | "fifo", now: number): void {
  if (ordering === "none") {
    db.run("UPDATE deliveries SET next_attempt_at = ? WHERE endpoint_id = ? AND status = 'pending' AND next_attempt_at IS NULL", now, endpointId);
    return;
  }
  db.run(
    `UPDATE deliveries SET seq = COALESCE(seq, ${UNNUMBERED_SEQ}),
       next_attempt_at = CASE WHEN lease_owner IS NULL THEN NULL ELSE next_attempt_at END
     WHERE endpoint_id = ? AND status = 'pending'`,
    endpointId,
  );
  advance(db, endpointId, now, true);
}
