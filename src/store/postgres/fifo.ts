import { DUE_CHANNEL, type Queryable } from "./db.js";

/**
 * The queue of a FIFO endpoint (docs/delivery.md, "FIFO endpoints"), on
 * PostgreSQL. The same model as on SQLite (`src/store/sqlite/fifo.ts`): each
 * FIFO delivery has a `seq`; of an endpoint's pending deliveries only the head
 * has a `next_attempt_at`, the others are parked without one, so the claim
 * (unchanged, `FOR UPDATE SKIP LOCKED` over due rows) can hand out at most one
 * delivery of the endpoint at a time, to one worker, whatever the number of
 * workers.
 *
 * What keeps "at most one" true with many processes: every change to a FIFO
 * queue (publish, completion, resend, recovery, a change of ordering) runs in
 * a transaction that first locks the endpoint's row (`FOR UPDATE`, several
 * endpoints in id order), and makes a delivery due only through `advance`,
 * under that lock. The claim never takes that lock: it only leases the one
 * due row.
 */

/** Where the statements run: the schema as a quoted identifier, and its name (the NOTIFY payload). */
export interface FifoTarget {
  qschema: string;
  schema: string;
}

/** See `UNNUMBERED_SEQ` in `src/store/sqlite/fifo.ts`: by creation time, ahead of every numbered delivery. */
export const UNNUMBERED_SEQ = "created_at - 10000000000000";

/** Locks the rows of these endpoints (in id order: two transactions never wait on each other in a cycle); returns their ordering and sequence. */
export async function lockEndpoints(
  q: Queryable,
  t: FifoTarget,
  ids: readonly string[],
): Promise<Map<string, { ordering: string; fifoSeq: number }>> {
  const { rows } = await q.query<{ id: string; ordering: string; fifo_seq: number }>(
    `SELECT id, ordering, fifo_seq::float8 AS fifo_seq FROM ${t.qschema}.endpoints WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [[...ids]],
  );
  return new Map(rows.map((r) => [r.id, { ordering: r.ordering, fifoSeq: r.fifo_seq }]));
}

/** Stores the last sequence number taken of each endpoint (rows locked by `lockEndpoints`). */
export async function saveSequences(q: Queryable, t: FifoTarget, last: ReadonlyMap<string, number>): Promise<void> {
  if (last.size === 0) return;
  await q.query(
    `UPDATE ${t.qschema}.endpoints e SET fifo_seq = s.seq FROM unnest($1::text[], $2::bigint[]) AS s(id, seq) WHERE e.id = s.id`,
    [[...last.keys()], [...last.values()]],
  );
}

/**
 * Makes the head of a FIFO endpoint's queue the one delivery that may be
 * claimed (see the SQLite twin for the rules). Takes the endpoint's lock
 * itself (a no-op when the transaction holds it already), then locks what is
 * not parked, so that a claim of it in progress is seen once committed. Tells
 * whether it made a delivery due; when due at once, the workers are woken at commit.
 */
export async function advance(q: Queryable, t: FifoTarget, endpointId: string, dueAt: number, now: number, force = false): Promise<boolean> {
  const s = t.qschema;
  const { rows: ep } = await q.query<{ ordering: string }>(`SELECT ordering FROM ${s}.endpoints WHERE id = $1 FOR UPDATE`, [endpointId]);
  if (ep[0]?.ordering !== "fifo") return false;
  const { rows: active } = await q.query<{ id: string; lease_owner: string | null }>(
    `SELECT id, lease_owner FROM ${s}.deliveries
     WHERE endpoint_id = $1 AND status = 'pending' AND seq IS NOT NULL AND next_attempt_at IS NOT NULL FOR UPDATE`,
    [endpointId],
  );
  if (!force && active.some((a) => a.lease_owner !== null)) return false;
  const { rows: head } = await q.query<{ id: string; parked: boolean }>(
    `SELECT id, next_attempt_at IS NULL AS parked FROM ${s}.deliveries
     WHERE endpoint_id = $1 AND status = 'pending' AND seq IS NOT NULL ORDER BY seq, id LIMIT 1`,
    [endpointId],
  );
  const first = head[0];
  if (!first) return false;
  const park = active.filter((a) => a.id !== first.id && a.lease_owner === null).map((a) => a.id);
  if (park.length > 0) await q.query(`UPDATE ${s}.deliveries SET next_attempt_at = NULL WHERE id = ANY($1::text[])`, [park]);
  if (!first.parked) return false;
  await q.query(
    `WITH u AS (UPDATE ${s}.deliveries SET next_attempt_at = $1 WHERE id = $2 RETURNING 1)
     SELECT CASE WHEN $1 <= $3 THEN pg_notify($4, $5) END AS notified FROM u`,
    [dueAt, first.id, now, DUE_CHANNEL, t.schema],
  );
  return true;
}

/**
 * Deliveries of `endpointId` just put back to pending (resend, recover), in a
 * transaction holding the endpoint's lock: on a FIFO endpoint they join the
 * queue at their original place, parked, and the queue advances.
 */
export async function requeued(q: Queryable, t: FifoTarget, endpointId: string, ids: readonly string[], now: number): Promise<void> {
  if (ids.length === 0) return;
  await q.query(
    `UPDATE ${t.qschema}.deliveries SET seq = COALESCE(seq, ${UNNUMBERED_SEQ}), next_attempt_at = NULL
     WHERE id = ANY($1::text[]) AND status = 'pending' AND lease_owner IS NULL`,
    [[...ids]],
  );
  await advance(q, t, endpointId, now, now);
}

/** See the SQLite twin: to `fifo`, the pending deliveries queue by creation time and the head is due; to `none`, everything parked is due. */
export async function orderingChanged(q: Queryable, t: FifoTarget, endpointId: string, ordering: "none" | "fifo", now: number): Promise<void> {
  const s = t.qschema;
  if (ordering === "none") {
    await q.query(
      `WITH u AS (UPDATE ${s}.deliveries SET next_attempt_at = $1
         WHERE endpoint_id = $2 AND status = 'pending' AND next_attempt_at IS NULL RETURNING 1)
       SELECT pg_notify($3, $4) AS notified WHERE EXISTS (SELECT 1 FROM u)`,
      [now, endpointId, DUE_CHANNEL, t.schema],
    );
    return;
  }
  await q.query(
    `UPDATE ${s}.deliveries SET seq = COALESCE(seq, ${UNNUMBERED_SEQ}),
       next_attempt_at = CASE WHEN lease_owner IS NULL THEN NULL ELSE next_attempt_at END
     WHERE endpoint_id = $1 AND status = 'pending'`,
    [endpointId],
  );
  await advance(q, t, endpointId, now, now, true);
}
