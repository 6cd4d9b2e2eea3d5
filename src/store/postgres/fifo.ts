import { UNNUMBERED_SEQ } from "../sql/fifo-seq.js";
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

/** Where the statements run: the schema as a quoted identifier, and its name (the NOTIFY payload). A `PgDb` is one. */
export interface FifoTarget {
  qschema: string;
  schema: string;
}

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
 * claimed (see the SQLite twin for the rules). The caller's transaction holds
 * the endpoint's lock already (`lockEndpoints`): what is parked cannot change
 * under it, so one statement reads the queue's head and locks what is not
 * parked (a claim of it in progress is then seen once committed), and one
 * more writes the change. With `force` (the endpoint just became FIFO), the
 * head is the first delivery not in flight. Tells whether it made a delivery
 * due; when due at once, the workers are woken at commit.
 */
export async function advance(q: Queryable, t: FifoTarget, endpointId: string, dueAt: number, now: number, force = false): Promise<boolean> {
  const s = t.qschema;
  // JSON as text: the outbox runs this on the caller's client, whatever its type parsers.
  const { rows } = await q.query<{ ordering: string | null; active: string; head: string | null }>(
    `WITH ep AS (SELECT ordering FROM ${s}.endpoints WHERE id = $1 FOR UPDATE),
       a AS (SELECT id, lease_owner IS NOT NULL AS leased FROM ${s}.deliveries
             WHERE endpoint_id = $1 AND status = 'pending' AND seq IS NOT NULL AND next_attempt_at IS NOT NULL FOR UPDATE)
     SELECT (SELECT ordering FROM ep) AS ordering,
       (SELECT coalesce(json_agg(json_build_object('id', id, 'leased', leased)), '[]'::json)::text FROM a) AS active,
       (SELECT id FROM ${s}.deliveries WHERE endpoint_id = $1 AND status = 'pending' AND seq IS NOT NULL
          AND (lease_owner IS NULL OR NOT $2) ORDER BY seq, id LIMIT 1) AS head`,
    [endpointId, force],
  );
  const { ordering, head } = rows[0] ?? { ordering: null, head: null };
  if (ordering !== "fifo" || head === null) return false;
  const active = JSON.parse(rows[0]!.active) as { id: string; leased: boolean }[];
  if (!force && active.some((a) => a.leased)) return false;
  const park = active.filter((a) => a.id !== head && !a.leased).map((a) => a.id);
  const parked = !active.some((a) => a.id === head);
  if (park.length === 0 && !parked) return false;
  await q.query(
    `WITH p AS (UPDATE ${s}.deliveries SET next_attempt_at = NULL WHERE id = ANY($1::text[]) RETURNING 1),
       h AS (UPDATE ${s}.deliveries SET next_attempt_at = $2 WHERE id = $3 AND next_attempt_at IS NULL RETURNING 1)
     SELECT (SELECT count(*) FROM p) AS parked,
       CASE WHEN EXISTS (SELECT 1 FROM h) AND $2 <= $4 THEN pg_notify($5, $6) END AS notified`,
    [park, dueAt, parked ? head : null, now, DUE_CHANNEL, t.schema],
  );
  return parked;
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
