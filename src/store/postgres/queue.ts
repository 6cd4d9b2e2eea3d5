import type { DeliveryId, EndpointId, MessageId } from "../../core/ids.js";
import type { DisabledReason, Endpoint } from "../model.js";
import { type EndpointRow, toEndpoint } from "../sql/rows.js";
import { CLAIMED_COLUMNS, type ClaimedDeliveryRow, toClaimedDelivery } from "../claimed.js";
import type { ClaimOptions, Completion, CompletionEffects, DeliveryJob, HeldLease, LeaseCheck } from "../store.js";
import { DUE_CHANNEL, type PgDb } from "./db.js";
import { advance, lockEndpoints } from "./fifo.js";

interface ClaimedRow extends ClaimedDeliveryRow {
  event_type: string;
  /** Only on the first row of each message: the others reuse it. */
  payload: string | null;
  message_created_at: number;
  trace_context: string | null;
}

// A lease is written as next_attempt_at = lease deadline: a delivery whose
// holder died simply becomes due again when the deadline passes. SKIP LOCKED
// lets any number of workers claim at once without waiting on each other's
// rows or taking the same one twice; the partial index `deliveries_due` holds
// only pending rows, so the scan does not grow with the history. The payload
// comes along once per message, not once per delivery. Each claim starts a new
// lease generation (fencing: see `complete`). Deliveries are partitioned by
// their message's id (migration 11): every statement here that names a
// delivery names it with its message, so each row is looked up in one partition.
const CLAIM = `WITH c AS (
    UPDATE deliveries SET next_attempt_at = $1, lease_owner = $2, lease_gen = lease_gen + 1
    WHERE (id, message_id) IN (
      SELECT id, message_id FROM deliveries
      WHERE status = 'pending' AND next_attempt_at <= $3 AND endpoint_id <> ALL($4::text[])
      ORDER BY next_attempt_at LIMIT $5
      FOR UPDATE SKIP LOCKED)
    RETURNING ${CLAIMED_COLUMNS})
  SELECT c.*, m.event_type, m.created_at AS message_created_at, m.trace_context,
    CASE WHEN row_number() OVER (PARTITION BY c.message_id ORDER BY c.id) = 1 THEN m.payload END AS payload
  FROM c JOIN messages m ON m.id = c.message_id`;

/**
 * Leases up to `limit` due deliveries with their messages in one statement,
 * then loads their endpoints. That read needs no transaction: a delivery
 * whose endpoint is deleted meanwhile is deleted with it (the job is dropped).
 */
export async function claimDue(db: PgDb, o: ClaimOptions): Promise<DeliveryJob[]> {
  const { rows } = await db.claims.query<ClaimedRow>(CLAIM, [o.leaseUntil, o.owner, o.now, o.excludeEndpoints ?? [], o.limit]);
  if (rows.length === 0) return [];
  const endpoints = await db.queue.query<EndpointRow>("SELECT * FROM endpoints WHERE id = ANY($1::text[])", [
    [...new Set(rows.map((r) => r.endpoint_id))],
  ]);
  const endpointById = new Map<string, Endpoint>(endpoints.rows.map((e) => [e.id, toEndpoint(e)]));
  const payloads = new Map<string, string>();
  for (const r of rows) if (r.payload !== null) payloads.set(r.message_id, r.payload);
  const jobs: DeliveryJob[] = [];
  for (const r of rows) {
    const endpoint = endpointById.get(r.endpoint_id);
    if (!endpoint) continue;
    jobs.push({
      delivery: toClaimedDelivery(r),
      message: {
        id: r.message_id as MessageId,
        eventType: r.event_type,
        payload: payloads.get(r.message_id)!,
        createdAt: r.message_created_at,
        ...(r.trace_context === null ? {} : { traceContext: r.trace_context }),
      },
      endpoint,
      lease: { owner: o.owner, gen: r.lease_gen },
    });
  }
  return jobs;
}

/**
 * Delivery transitions, their attempts and the endpoints' last success of a
 * whole batch, in one statement whatever the batch size (arrays and `unnest`).
 * Fenced: a transition applies only while the delivery is pending under the
 * very lease it carries (owner and generation); the attempts and successes of
 * the others are not written, and their ids are not returned.
 *
 * Only a pending delivery holds a lease (every statement that ends or moves a
 * delivery clears `lease_owner`), so the fenced statements here test the lease
 * and not `status = 'pending'`: that condition would let the planner read the
 * partial index `deliveries_due`, which statistics taken over a large, settled
 * history estimate at a row or two, and scan every pending delivery for each
 * batch while a backlog is being worked off (measured: 3,000,000 index rows
 * fetched by one 20,000-delivery burst over 1,000,000 old attempts, half the
 * throughput). By primary key, a batch reads its own rows whatever the history.
 */
const RECORD = `WITH d AS (
    UPDATE deliveries d SET status = t.status, attempts = t.attempts, schedule_index = t.schedule_index,
      next_attempt_at = t.next_attempt_at, cycle_started_at = t.cycle_started_at,
      last_attempt_at = COALESCE(t.last_attempt_at, d.last_attempt_at), lease_owner = NULL, updated_at = $23
    FROM unnest($16::text[], $17::text[], $18::int[], $19::int[], $20::bigint[], $21::bigint[], $22::bigint[], $24::text[], $25::int[], $26::text[])
      AS t(id, status, attempts, schedule_index, next_attempt_at, cycle_started_at, last_attempt_at, owner, gen, message_id)
    WHERE d.id = t.id AND d.message_id = t.message_id AND d.message_id BETWEEN $27 AND $28 AND d.lease_owner = t.owner AND d.lease_gen = t.gen
    RETURNING d.id),
  a AS (
    INSERT INTO attempts (id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms,
      success, status_code, response_headers, response_body, error_kind, error_message)
    SELECT id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms,
      success, status_code, response_headers::jsonb, response_body, error_kind, error_message
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::bigint[], $9::int[],
      $10::boolean[], $11::int[], $12::text[], $13::text[], $14::text[], $15::text[])
      AS t(id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms,
        success, status_code, response_headers, response_body, error_kind, error_message)
    WHERE delivery_id IN (SELECT id FROM d)
    RETURNING endpoint_id, created_at, success),
  s AS (
    UPDATE endpoints e SET last_success_at = t.at
    FROM (SELECT endpoint_id, max(created_at) AS at FROM a WHERE success GROUP BY endpoint_id) AS t
    WHERE e.id = t.endpoint_id AND (e.last_success_at IS NULL OR e.last_success_at < t.at))
  SELECT coalesce(array_agg(id), '{}') AS applied FROM d`;

/**
 * Records a batch of finished attempts and delivery transitions: one statement
 * on the queue pool (its commit does not wait for the WAL flush, see `PgDb`);
 * a batch that disables endpoints adds those updates in the same transaction.
 */
export async function complete(db: PgDb, batch: readonly Completion[], now: number): Promise<CompletionEffects> {
  // The last transition of a delivery wins, as it would applied in order.
  const last = new Map<string, Completion>();
  for (const c of batch) last.set(c.deliveryId, c);
  const transitions = [...last.values()].sort((a, b) => (a.deliveryId < b.deliveryId ? -1 : 1));
  const attempts = transitions.flatMap((c) => (c.attempt ? [c.attempt] : []));
  const params = [
    attempts.map((a) => a.id), attempts.map((a) => a.deliveryId), attempts.map((a) => a.messageId),
    attempts.map((a) => a.endpointId), attempts.map((a) => a.appId), attempts.map((a) => a.attemptNumber),
    attempts.map((a) => a.url), attempts.map((a) => a.createdAt), attempts.map((a) => Math.round(a.durationMs)),
    attempts.map((a) => a.success), attempts.map((a) => a.statusCode),
    attempts.map((a) => (a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders))),
    attempts.map((a) => stripNul(a.responseBody)), attempts.map((a) => a.errorKind), attempts.map((a) => stripNul(a.errorMessage)),
    transitions.map((t) => t.deliveryId), transitions.map((t) => t.status), transitions.map((t) => t.attempts),
    transitions.map((t) => t.scheduleIndex), transitions.map((t) => t.nextAttemptAt), transitions.map((t) => t.cycleStartedAt),
    transitions.map((t) => t.attempt?.createdAt ?? null), now,
    transitions.map((t) => t.lease.owner), transitions.map((t) => t.lease.gen), transitions.map((t) => t.messageId),
    ...messageRange(transitions.map((t) => t.messageId)),
  ];
  const fencedOut = (applied: string[]): DeliveryId[] => {
    const ok = new Set(applied);
    return transitions.filter((t) => !ok.has(t.deliveryId)).map((t) => t.deliveryId);
  };
  const disabling = transitions.filter((c) => c.disableEndpoint);
  const fifo = [...new Set(transitions.filter((c) => c.fifo).map((c) => c.endpointId))];
  if (disabling.length === 0 && fifo.length === 0) {
    const { rows } = await db.queue.query<{ applied: string[] }>(RECORD, params);
    return { disabled: [], fenced: fencedOut(rows[0]?.applied ?? []) };
  }
  return db.tx(
    async (q) => {
      // FIFO endpoints' locks first, as every change to a FIFO queue takes them (src/store/postgres/fifo.ts).
      if (fifo.length > 0) await lockEndpoints(q, db, fifo);
      const { rows } = await q.query<{ applied: string[] }>(RECORD, params);
      const applied = new Set(rows[0]?.applied ?? []);
      const disabled: { endpointId: EndpointId; reason: DisabledReason }[] = [];
      for (const t of disabling) {
        if (!applied.has(t.deliveryId)) continue;
        // `failing` only when nothing succeeded since this delivery's schedule began
        // (one dead delivery must not disable an endpoint that is otherwise healthy),
        // and the endpoint was not enabled again since (enabling resets the count).
        const { rowCount } =
          t.disableEndpoint === "gone"
            ? await q.query(
                "UPDATE endpoints SET status = 'disabled', disabled_reason = 'gone', updated_at = $1 WHERE id = $2 AND status = 'active'",
                [now, t.endpointId],
              )
            : await q.query(
                `UPDATE endpoints SET status = 'disabled', disabled_reason = 'failing', updated_at = $1
                 WHERE id = $2 AND status = 'active' AND (last_success_at IS NULL OR last_success_at < $3)
                   AND (enabled_at IS NULL OR enabled_at <= $3)`,
                [now, t.endpointId, t.cycleStartedAt ?? 0],
              );
        if (rowCount) disabled.push({ endpointId: t.endpointId, reason: t.disableEndpoint! });
      }
      // What was recorded may have ended a queue's head: the next one becomes due.
      let promoted = 0;
      for (const endpointId of fifo) {
        if (!transitions.some((c) => c.endpointId === endpointId && applied.has(c.deliveryId))) continue;
        if (await advance(q, db, endpointId, now, now)) promoted++;
      }
      return { disabled, fenced: fencedOut([...applied]), ...(promoted > 0 ? { promoted } : {}) };
    },
    { queue: true },
  );
}

/**
 * The lowest and highest of these message ids, as bounds the statements above
 * add (`message_id BETWEEN $n AND $m`): parameters of the statement itself, so
 * PostgreSQL leaves out the partitions outside them (typically all but
 * today's) before it starts executing; the per-row pruning of the join alone
 * would still set every partition up, indexes included, at each execution.
 */
function messageRange(ids: readonly string[]): [string, string] {
  let low = ids[0] ?? "";
  let high = low;
  for (const id of ids) {
    if (id < low) low = id;
    if (id > high) high = id;
  }
  return [low, high];
}

/** PostgreSQL text cannot hold NUL; a receiver's body or an error message may. */
const stripNul = (s: string | null): string | null => (s === null || !s.includes("\u0000") ? s : s.replaceAll("\u0000", "\ufffd"));

/** Announces, at commit, that deliveries of this schema became due now. */
const NOTIFY_IF_ANY = (cte: string) => `WITH r AS (${cte} RETURNING 1), n AS (SELECT count(*)::int AS n FROM r)
  SELECT n.n, CASE WHEN n.n > 0 THEN pg_notify('${DUE_CHANNEL}', current_schema()) END AS notified FROM n`;

/**
 * The leases of `held` in the statements below: their rows as `t`, and the
 * condition that picks each delivery still under its lease, in its one
 * partition (`message_id` bounds the batch: see `messageRange`). Parameters as
 * `heldParams` lays them out: $1 the statement's time, $4 the owner.
 */
const HELD_ROWS = "unnest($2::text[], $3::int[], $5::text[]) AS t(id, gen, message_id)";
const HELD_MATCH = "d.id = t.id AND d.message_id = t.message_id AND d.message_id BETWEEN $6 AND $7 AND d.lease_gen = t.gen AND d.lease_owner = $4";

function heldParams(at: number, owner: string, held: readonly HeldLease[]): unknown[] {
  const messageIds = held.map((h) => h.messageId);
  return [at, held.map((h) => h.id), held.map((h) => h.gen), owner, messageIds, ...messageRange(messageIds)];
}

const RELEASE = NOTIFY_IF_ANY(`UPDATE deliveries d SET next_attempt_at = $1, lease_owner = NULL, updated_at = $1
  FROM ${HELD_ROWS} WHERE ${HELD_MATCH}`);

export async function releaseLeases(db: PgDb, owner: string, held: readonly HeldLease[], now: number): Promise<void> {
  if (held.length === 0) return;
  // Other workers may take what this one gives back: wake them.
  await db.queue.query(RELEASE, heldParams(now, owner, held));
}

export async function releaseAllLeases(db: PgDb, now: number): Promise<number> {
  const { rows } = await db.queue.query<{ n: number }>(
    NOTIFY_IF_ANY(`UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL, updated_at = $1
      WHERE status = 'pending' AND lease_owner IS NOT NULL`),
    [now],
  );
  return rows[0]?.n ?? 0;
}

export async function releaseUnanswered(db: PgDb, owner: string, leaseUntil: number, keep: readonly DeliveryId[], now: number): Promise<number> {
  const { rows } = await db.queue.query<{ n: number }>(
    NOTIFY_IF_ANY(`UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL, updated_at = $1
      WHERE status = 'pending' AND next_attempt_at = $2 AND lease_owner = $3 AND lease_gen > 0 AND id <> ALL($4::text[])`),
    [now, leaseUntil, owner, keep],
  );
  return rows[0]?.n ?? 0;
}

const EXTEND = `UPDATE deliveries d SET next_attempt_at = $1 FROM ${HELD_ROWS} WHERE ${HELD_MATCH} RETURNING d.id`;

/** Moves the lease deadline of deliveries still leased to `owner` under the same generation; the others are left alone. */
export async function extendLeases(db: PgDb, owner: string, held: readonly HeldLease[], until: number): Promise<DeliveryId[]> {
  if (held.length === 0) return [];
  const { rows } = await db.queue.query<{ id: DeliveryId }>(EXTEND, heldParams(until, owner, held));
  return rows.map((r) => r.id);
}

const CHECK = `SELECT d.id, e.status, e.updated_at FROM ${HELD_ROWS}
  JOIN deliveries d ON ${HELD_MATCH}
  JOIN endpoints e ON e.id = d.endpoint_id
  WHERE d.next_attempt_at > $1`;

/** Which of `held` are still this worker's, unexpired, with their endpoint's status. */
export async function checkLeases(db: PgDb, owner: string, held: readonly HeldLease[], now: number): Promise<LeaseCheck[]> {
  if (held.length === 0) return [];
  const { rows } = await db.queue.query<{ id: DeliveryId; status: Endpoint["status"]; updated_at: number }>(CHECK, heldParams(now, owner, held));
  return rows.map((r) => ({ id: r.id, endpointStatus: r.status, endpointUpdatedAt: r.updated_at }));
}

export async function queueDepth(db: PgDb): Promise<number> {
  const { rows } = await db.queue.query<{ n: number }>("SELECT count(*)::float8 AS n FROM deliveries WHERE status = 'pending'");
  return rows[0]?.n ?? 0;
}

export async function nextDueAt(db: PgDb): Promise<number | null> {
  const { rows } = await db.queue.query<{ t: number | null }>("SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status = 'pending'");
  return rows[0]?.t ?? null;
}
