import type { DeliveryId, EndpointId, MessageId } from "../../core/ids.js";
import type { DisabledReason, Endpoint } from "../model.js";
import { type EndpointRow, toEndpoint } from "../sqlite/rows.js";
import type { ClaimOptions, Completion, CompletionEffects, DeliveryJob } from "../store.js";
import { DUE_CHANNEL, type PgDb } from "./db.js";

interface ClaimedRow {
  id: string;
  message_id: string;
  endpoint_id: string;
  app_id: string;
  attempts: number;
  schedule_index: number;
  cycle_started_at: number | null;
}

// A lease is written as next_attempt_at = lease deadline: a delivery whose
// holder died simply becomes due again when the deadline passes. SKIP LOCKED
// lets any number of workers claim at once without waiting on each other's
// rows or taking the same one twice; the partial index `deliveries_due` holds
// only pending rows, so the scan does not grow with the history.
const CLAIM = `UPDATE deliveries SET next_attempt_at = $1, lease_owner = $2
  WHERE id IN (
    SELECT id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= $3 AND endpoint_id <> ALL($4::text[])
    ORDER BY next_attempt_at LIMIT $5
    FOR UPDATE SKIP LOCKED)
  RETURNING id, message_id, endpoint_id, app_id, attempts, schedule_index, cycle_started_at`;

/**
 * Leases up to `limit` due deliveries in one autocommitted statement, then
 * loads their messages and endpoints. Those reads need no transaction:
 * messages never change, and a delivery whose endpoint is deleted meanwhile
 * is deleted with it (the job is dropped).
 */
export async function claimDue(db: PgDb, o: ClaimOptions): Promise<DeliveryJob[]> {
  const rows = await db.query<ClaimedRow>(CLAIM, [o.leaseUntil, o.owner, o.now, o.excludeEndpoints ?? [], o.limit]);
  if (rows.length === 0) return [];
  const [messages, endpoints] = await Promise.all([
    db.query<{ id: string; event_type: string; payload: string; created_at: number }>(
      "SELECT id, event_type, payload, created_at FROM messages WHERE id = ANY($1::text[])",
      [[...new Set(rows.map((r) => r.message_id))]],
    ),
    db.query<EndpointRow>("SELECT * FROM endpoints WHERE id = ANY($1::text[])", [[...new Set(rows.map((r) => r.endpoint_id))]]),
  ]);
  const messageById = new Map(
    messages.map((m) => [m.id, { id: m.id as MessageId, eventType: m.event_type, payload: m.payload, createdAt: m.created_at }]),
  );
  const endpointById = new Map<string, Endpoint>(endpoints.map((e) => [e.id, toEndpoint(e)]));
  const jobs: DeliveryJob[] = [];
  for (const r of rows) {
    const message = messageById.get(r.message_id);
    const endpoint = endpointById.get(r.endpoint_id);
    if (!message || !endpoint) continue;
    jobs.push({
      delivery: {
        id: r.id as DeliveryId,
        messageId: r.message_id as MessageId,
        endpointId: r.endpoint_id as EndpointId,
        appId: r.app_id as DeliveryJob["delivery"]["appId"],
        attempts: r.attempts,
        scheduleIndex: r.schedule_index,
        cycleStartedAt: r.cycle_started_at,
      },
      message,
      endpoint,
    });
  }
  return jobs;
}

/**
 * Records a batch of finished attempts and delivery transitions in one
 * transaction of a few statements, whatever the batch size (arrays and
 * `unnest`). Not waiting for the WAL flush is safe here: see `PgDb.tx`.
 */
export async function complete(db: PgDb, batch: readonly Completion[], now: number): Promise<CompletionEffects> {
  // The last transition of a delivery wins, as it would applied in order.
  const last = new Map<string, Completion>();
  for (const c of batch) last.set(c.deliveryId, c);
  const transitions = [...last.values()].sort((a, b) => (a.deliveryId < b.deliveryId ? -1 : 1));
  const attempts = batch.flatMap((c) => (c.attempt ? [c.attempt] : []));
  const lastSuccess = new Map<string, number>();
  for (const a of attempts) if (a.success) lastSuccess.set(a.endpointId, Math.max(lastSuccess.get(a.endpointId) ?? 0, a.createdAt));

  return db.tx(
    async (c) => {
      if (attempts.length > 0) {
        await c.query(
          `INSERT INTO attempts (id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms,
             success, status_code, response_headers, response_body, error_kind, error_message)
           SELECT id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms,
             success, status_code, response_headers::jsonb, response_body, error_kind, error_message
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::bigint[], $9::int[],
             $10::boolean[], $11::int[], $12::text[], $13::text[], $14::text[], $15::text[])
             AS t(id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms,
               success, status_code, response_headers, response_body, error_kind, error_message)`,
          [
            attempts.map((a) => a.id), attempts.map((a) => a.deliveryId), attempts.map((a) => a.messageId),
            attempts.map((a) => a.endpointId), attempts.map((a) => a.appId), attempts.map((a) => a.attemptNumber),
            attempts.map((a) => a.url), attempts.map((a) => a.createdAt), attempts.map((a) => Math.round(a.durationMs)),
            attempts.map((a) => a.success), attempts.map((a) => a.statusCode),
            attempts.map((a) => (a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders))),
            attempts.map((a) => stripNul(a.responseBody)), attempts.map((a) => a.errorKind), attempts.map((a) => stripNul(a.errorMessage)),
          ],
        );
      }
      await c.query(
        `UPDATE deliveries d SET status = t.status, attempts = t.attempts, schedule_index = t.schedule_index,
           next_attempt_at = t.next_attempt_at, cycle_started_at = t.cycle_started_at,
           last_attempt_at = COALESCE(t.last_attempt_at, d.last_attempt_at), lease_owner = NULL, updated_at = $8
         FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[])
           AS t(id, status, attempts, schedule_index, next_attempt_at, cycle_started_at, last_attempt_at)
         WHERE d.id = t.id`,
        [
          transitions.map((t) => t.deliveryId), transitions.map((t) => t.status), transitions.map((t) => t.attempts),
          transitions.map((t) => t.scheduleIndex), transitions.map((t) => t.nextAttemptAt), transitions.map((t) => t.cycleStartedAt),
          transitions.map((t) => t.attempt?.createdAt ?? null), now,
        ],
      );
      if (lastSuccess.size > 0) {
        // Sorted, so two workers touching the same endpoints lock them in the same order.
        const ids = [...lastSuccess.keys()].sort();
        await c.query(
          `UPDATE endpoints e SET last_success_at = t.at
           FROM unnest($1::text[], $2::bigint[]) AS t(id, at)
           WHERE e.id = t.id AND (e.last_success_at IS NULL OR e.last_success_at < t.at)`,
          [ids, ids.map((id) => lastSuccess.get(id))],
        );
      }
      const disabled: { endpointId: EndpointId; reason: DisabledReason }[] = [];
      for (const t of batch) {
        if (!t.disableEndpoint) continue;
        // `failing` only when nothing succeeded since this delivery's schedule began:
        // one dead delivery must not disable an endpoint that is otherwise healthy.
        const { rowCount } =
          t.disableEndpoint === "gone"
            ? await c.query(
                "UPDATE endpoints SET status = 'disabled', disabled_reason = 'gone', updated_at = $1 WHERE id = $2 AND status = 'active'",
                [now, t.endpointId],
              )
            : await c.query(
                `UPDATE endpoints SET status = 'disabled', disabled_reason = 'failing', updated_at = $1
                 WHERE id = $2 AND status = 'active' AND (last_success_at IS NULL OR last_success_at < $3)`,
                [now, t.endpointId, t.cycleStartedAt ?? 0],
              );
        if (rowCount) disabled.push({ endpointId: t.endpointId, reason: t.disableEndpoint });
      }
      return { disabled };
    },
    { durable: false },
  );
}

/** PostgreSQL text cannot hold NUL; a receiver's body or an error message may. */
const stripNul = (s: string | null): string | null => (s === null || !s.includes("\u0000") ? s : s.replaceAll("\u0000", "\ufffd"));

/** Announces, at commit, that deliveries of this schema became due now. */
const NOTIFY_IF_ANY = (cte: string) => `WITH r AS (${cte} RETURNING 1), n AS (SELECT count(*)::int AS n FROM r)
  SELECT n.n, CASE WHEN n.n > 0 THEN pg_notify('${DUE_CHANNEL}', current_schema()) END AS notified FROM n`;

export async function releaseLeases(db: PgDb, ids: readonly DeliveryId[], now: number): Promise<void> {
  if (ids.length === 0) return;
  // Other workers may take what this one gives back: wake them.
  await db.query(
    NOTIFY_IF_ANY(`UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL, updated_at = $1
      WHERE status = 'pending' AND id = ANY($2::text[])`),
    [now, ids],
  );
}

export async function releaseAllLeases(db: PgDb, now: number): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    NOTIFY_IF_ANY(`UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL, updated_at = $1
      WHERE status = 'pending' AND lease_owner IS NOT NULL`),
    [now],
  );
  return row?.n ?? 0;
}

/** Moves the lease deadline of deliveries still leased to `owner`; the others are left alone. */
export async function extendLeases(db: PgDb, owner: string, ids: readonly DeliveryId[], until: number): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await db.pool.query(
    "UPDATE deliveries SET next_attempt_at = $1 WHERE id = ANY($2::text[]) AND lease_owner = $3 AND status = 'pending'",
    [until, ids, owner],
  );
  return rowCount ?? 0;
}

export async function nextDueAt(db: PgDb): Promise<number | null> {
  const [row] = await db.query<{ t: number | null }>("SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status = 'pending'");
  return row?.t ?? null;
}
