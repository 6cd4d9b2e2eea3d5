import type { DeliveryId, EndpointId, MessageId } from "../../core/ids.js";
import type { DisabledReason, Endpoint } from "../model.js";
import { CLAIMED_COLUMNS, type ClaimedDeliveryRow, toClaimedDelivery } from "../claimed.js";
import type { ClaimOptions, Completion, CompletionEffects, DeliveryJob, HeldLease, LeaseCheck } from "../store.js";
import { type Db, jsonList } from "./db.js";
import { advance } from "./fifo.js";
import { type EndpointRow, toEndpoint } from "../sql/rows.js";


// A lease is written as next_attempt_at = lease deadline: a delivery whose
// holder died simply becomes due again when the deadline passes. Each claim
// starts a new lease generation (fencing: see `complete`).
const CLAIM = `UPDATE deliveries SET next_attempt_at = @leaseUntil, lease_owner = @owner, lease_gen = lease_gen + 1
  WHERE id IN (
    SELECT id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= @now
      AND endpoint_id NOT IN (SELECT value FROM json_each(@exclude))
    ORDER BY next_attempt_at LIMIT @limit)
  RETURNING ${CLAIMED_COLUMNS}`;

// Read without the write lock: a claim that would find nothing (a wake for
// publishes to no endpoint, a poll of an idle queue) never takes it, so it
// never makes a publish of another connection wait.
const ANY_DUE = "SELECT 1 AS due FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? LIMIT 1";

export function claimDue(db: Db, o: ClaimOptions): DeliveryJob[] {
  if (!db.get<{ due: number }>(ANY_DUE, o.now)) return [];
  return db.tx(() => {
    const rows = db.all<ClaimedDeliveryRow>(CLAIM, {
      leaseUntil: o.leaseUntil,
      owner: o.owner,
      now: o.now,
      exclude: jsonList(o.excludeEndpoints ?? []),
      limit: o.limit,
    });
    if (rows.length === 0) return [];
    const messageIds = [...new Set(rows.map((r) => r.message_id))];
    const endpointIds = [...new Set(rows.map((r) => r.endpoint_id))];
    const messages = new Map(
      db
        .all<{ id: string; event_type: string; payload: string; created_at: number; trace_context: string | null }>(
          "SELECT id, event_type, payload, created_at, trace_context FROM messages WHERE id IN (SELECT value FROM json_each(?))",
          jsonList(messageIds),
        )
        .map((m) => [
          m.id,
          {
            id: m.id as MessageId,
            eventType: m.event_type,
            payload: m.payload,
            createdAt: m.created_at,
            ...(m.trace_context === null ? {} : { traceContext: m.trace_context }),
          },
        ]),
    );
    const endpoints = new Map<string, Endpoint>(
      db
        .all<EndpointRow>("SELECT * FROM endpoints WHERE id IN (SELECT value FROM json_each(?))", jsonList(endpointIds))
        .map((e) => [e.id, toEndpoint(e)]),
    );
    const jobs: DeliveryJob[] = [];
    for (const r of rows) {
      const message = messages.get(r.message_id);
      const endpoint = endpoints.get(r.endpoint_id);
      if (!message || !endpoint) continue; // deleted meanwhile; cascades remove the delivery
      jobs.push({ delivery: toClaimedDelivery(r), message, endpoint, lease: { owner: o.owner, gen: r.lease_gen } });
    }
    return jobs;
  });
}

const INSERT_ATTEMPT = `INSERT INTO attempts
  (id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms, success,
   status_code, response_headers, response_body, error_kind, error_message)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

// Fenced: only the holder of this very lease (owner and generation) may end it.
const UPDATE_DELIVERY = `UPDATE deliveries SET status = ?, attempts = ?, schedule_index = ?, next_attempt_at = ?,
  cycle_started_at = ?, last_attempt_at = COALESCE(?, last_attempt_at), lease_owner = NULL, updated_at = ?
  WHERE id = ? AND status = 'pending' AND lease_owner = ? AND lease_gen = ?`;

/**
 * Records a batch of finished attempts and their delivery transitions in one
 * transaction. A completion whose lease is no longer the delivery's (it ran
 * out and someone claimed it again, or it was resent, re-queued or deleted)
 * changes nothing and adds no attempt row: it is reported in `fenced`.
 */
export function complete(db: Db, batch: readonly Completion[], now: number): CompletionEffects {
  return db.tx(() => {
    const lastSuccess = new Map<string, number>();
    const fenced: DeliveryId[] = [];
    const applied: Completion[] = [];
    for (const c of batch) {
      const a = c.attempt;
      const { changes } = db.run(
        UPDATE_DELIVERY,
        c.status, c.attempts, c.scheduleIndex, c.nextAttemptAt, c.cycleStartedAt, a ? a.createdAt : null, now, c.deliveryId,
        c.lease.owner, c.lease.gen,
      );
      if (changes === 0) {
        fenced.push(c.deliveryId);
        continue;
      }
      applied.push(c);
      if (a) {
        db.run(
          INSERT_ATTEMPT,
          a.id, a.deliveryId, a.messageId, a.endpointId, a.appId, a.attemptNumber, a.url, a.createdAt, a.durationMs,
          a.success ? 1 : 0, a.statusCode, a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders),
          a.responseBody, a.errorKind, a.errorMessage,
        );
        if (a.success) lastSuccess.set(c.endpointId, Math.max(lastSuccess.get(c.endpointId) ?? 0, a.createdAt));
      }
    }
    for (const [endpointId, at] of lastSuccess) {
      db.run("UPDATE endpoints SET last_success_at = MAX(COALESCE(last_success_at, 0), ?) WHERE id = ?", at, endpointId);
    }
    const disabled: { endpointId: EndpointId; reason: DisabledReason }[] = [];
    for (const c of applied) {
      if (!c.disableEndpoint) continue;
      // `failing` only when nothing succeeded since this delivery's schedule began
      // (one dead delivery must not disable an endpoint that is otherwise healthy),
      // and the endpoint was not enabled again since (enabling resets the count).
      const changed =
        c.disableEndpoint === "gone"
          ? db.run(
              "UPDATE endpoints SET status = 'disabled', disabled_reason = 'gone', updated_at = ? WHERE id = ? AND status = 'active'",
              now, c.endpointId,
            ).changes
          : db.run(
              `UPDATE endpoints SET status = 'disabled', disabled_reason = 'failing', updated_at = @now
               WHERE id = @id AND status = 'active' AND (last_success_at IS NULL OR last_success_at < @cycle)
                 AND (enabled_at IS NULL OR enabled_at <= @cycle)`,
              { now, id: c.endpointId, cycle: c.cycleStartedAt ?? 0 },
            ).changes;
      if (changed > 0) disabled.push({ endpointId: c.endpointId, reason: c.disableEndpoint });
    }
    // FIFO: what was recorded may have ended a queue's head (or put an earlier one back).
    let promoted = 0;
    for (const endpointId of new Set(applied.filter((c) => c.fifo).map((c) => c.endpointId))) {
      if (advance(db, endpointId, now)) promoted++;
    }
    return { disabled, fenced, ...(promoted > 0 ? { promoted } : {}) };
  });
}

/** `held` as the `@held` parameter: one JSON list of `[id, gen]` pairs. */
const heldJson = (held: readonly HeldLease[]): string => JSON.stringify(held.map((h) => [h.id, h.gen]));

/** The `(id, gen)` pairs of `@held`, for `(id, lease_gen) IN …`. */
const HELD_PAIRS = "(SELECT value ->> 0, value ->> 1 FROM json_each(@held))";
/** The deliveries in `@held`, under the same generation. */
const HELD = `(id, lease_gen) IN ${HELD_PAIRS}`;

export function releaseLeases(db: Db, owner: string, held: readonly HeldLease[], now: number): void {
  db.run(
    `UPDATE deliveries SET next_attempt_at = @now, lease_owner = NULL, updated_at = @now
     WHERE status = 'pending' AND lease_owner = @owner AND ${HELD}`,
    { now, owner, held: heldJson(held) },
  );
}

export const releaseAllLeases = (db: Db, now: number): number =>
  db.run(
    "UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL, updated_at = ? WHERE status = 'pending' AND lease_owner IS NOT NULL",
    now, now,
  ).changes;

export const releaseUnanswered = (db: Db, owner: string, leaseUntil: number, keep: readonly DeliveryId[], now: number): number =>
  db.run(
    `UPDATE deliveries SET next_attempt_at = @now, lease_owner = NULL, updated_at = @now
     WHERE status = 'pending' AND next_attempt_at = @leaseUntil AND lease_owner = @owner AND lease_gen > 0
       AND id NOT IN (SELECT value FROM json_each(@keep))`,
    { now, leaseUntil, owner, keep: jsonList(keep) },
  ).changes;

export const queueDepth = (db: Db): number =>
  db.get<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries WHERE status = 'pending'")?.n ?? 0;

export const nextDueAt = (db: Db): number | null =>
  db.get<{ t: number | null }>("SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status = 'pending'")?.t ?? null;

export const extendLeases = (db: Db, owner: string, held: readonly HeldLease[], until: number): DeliveryId[] =>
  db
    .all<{ id: DeliveryId }>(
      `UPDATE deliveries SET next_attempt_at = @until
       WHERE status = 'pending' AND lease_owner = @owner AND ${HELD} RETURNING id`,
      { until, owner, held: heldJson(held) },
    )
    .map((r) => r.id);

export const checkLeases = (db: Db, owner: string, held: readonly HeldLease[], now: number): LeaseCheck[] =>
  db
    .all<{ id: DeliveryId; status: Endpoint["status"]; updated_at: number }>(
      `SELECT d.id, e.status, e.updated_at FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
       WHERE d.status = 'pending' AND d.lease_owner = @owner AND d.next_attempt_at > @now
         AND (d.id, d.lease_gen) IN ${HELD_PAIRS}`,
      { now, owner, held: heldJson(held) },
    )
    .map((r) => ({ id: r.id, endpointStatus: r.status, endpointUpdatedAt: r.updated_at }));

/** The counter migration 5's triggers move on every endpoint change a worker must see; -1 before that migration. */
export const changeEpoch = (db: Db): number => {
  const row = db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'endpoint_change_epoch'");
  return row ? Number(row.value) : -1;
};
