import type { DeliveryId, EndpointId, MessageId } from "../../core/ids.js";
import type { DisabledReason, Endpoint } from "../model.js";
import { type ClaimedDeliveryRow, toClaimedDelivery } from "../claimed.js";
import type { ClaimOptions, Completion, CompletionEffects, DeliveryJob } from "../store.js";
import { type Db, jsonList } from "./db.js";
import { type EndpointRow, toEndpoint } from "./rows.js";


// A lease is written as next_attempt_at = lease deadline: a delivery whose
// holder died simply becomes due again when the deadline passes.
const CLAIM = `UPDATE deliveries SET next_attempt_at = @leaseUntil, lease_owner = @owner
  WHERE id IN (
    SELECT id FROM deliveries
    WHERE status = 'pending' AND next_attempt_at <= @now
      AND endpoint_id NOT IN (SELECT value FROM json_each(@exclude))
    ORDER BY next_attempt_at LIMIT @limit)
  RETURNING id, message_id, endpoint_id, app_id, attempts, schedule_index, cycle_started_at`;

export function claimDue(db: Db, o: ClaimOptions): DeliveryJob[] {
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
        .all<{ id: string; event_type: string; payload: string; created_at: number }>(
          "SELECT id, event_type, payload, created_at FROM messages WHERE id IN (SELECT value FROM json_each(?))",
          jsonList(messageIds),
        )
        .map((m) => [m.id, { id: m.id as MessageId, eventType: m.event_type, payload: m.payload, createdAt: m.created_at }]),
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
      jobs.push({ delivery: toClaimedDelivery(r), message, endpoint });
    }
    return jobs;
  });
}

const INSERT_ATTEMPT = `INSERT INTO attempts
  (id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms, success,
   status_code, response_headers, response_body, error_kind, error_message)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const UPDATE_DELIVERY = `UPDATE deliveries SET status = ?, attempts = ?, schedule_index = ?, next_attempt_at = ?,
  cycle_started_at = ?, last_attempt_at = COALESCE(?, last_attempt_at), lease_owner = NULL, updated_at = ?
  WHERE id = ?`;

/** Records a batch of finished attempts and their delivery transitions in one transaction. */
export function complete(db: Db, batch: readonly Completion[], now: number): CompletionEffects {
  return db.tx(() => {
    const lastSuccess = new Map<string, number>();
    for (const c of batch) {
      const a = c.attempt;
      if (a) {
        db.run(
          INSERT_ATTEMPT,
          a.id, a.deliveryId, a.messageId, a.endpointId, a.appId, a.attemptNumber, a.url, a.createdAt, a.durationMs,
          a.success ? 1 : 0, a.statusCode, a.responseHeaders === null ? null : JSON.stringify(a.responseHeaders),
          a.responseBody, a.errorKind, a.errorMessage,
        );
        if (a.success) lastSuccess.set(c.endpointId, Math.max(lastSuccess.get(c.endpointId) ?? 0, a.createdAt));
      }
      db.run(
        UPDATE_DELIVERY,
        c.status, c.attempts, c.scheduleIndex, c.nextAttemptAt, c.cycleStartedAt, a ? a.createdAt : null, now, c.deliveryId,
      );
    }
    for (const [endpointId, at] of lastSuccess) {
      db.run("UPDATE endpoints SET last_success_at = MAX(COALESCE(last_success_at, 0), ?) WHERE id = ?", at, endpointId);
    }
    const disabled: { endpointId: EndpointId; reason: DisabledReason }[] = [];
    for (const c of batch) {
      if (!c.disableEndpoint) continue;
      // `failing` only when nothing succeeded since this delivery's schedule began:
      // one dead delivery must not disable an endpoint that is otherwise healthy.
      const changed =
        c.disableEndpoint === "gone"
          ? db.run(
              "UPDATE endpoints SET status = 'disabled', disabled_reason = 'gone', updated_at = ? WHERE id = ? AND status = 'active'",
              now, c.endpointId,
            ).changes
          : db.run(
              `UPDATE endpoints SET status = 'disabled', disabled_reason = 'failing', updated_at = ?
               WHERE id = ? AND status = 'active' AND (last_success_at IS NULL OR last_success_at < ?)`,
              now, c.endpointId, c.cycleStartedAt ?? 0,
            ).changes;
      if (changed > 0) disabled.push({ endpointId: c.endpointId, reason: c.disableEndpoint });
    }
    return { disabled };
  });
}

export function releaseLeases(db: Db, ids: readonly DeliveryId[], now: number): void {
  db.run(
    `UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL, updated_at = ?
     WHERE status = 'pending' AND id IN (SELECT value FROM json_each(?))`,
    now, now, jsonList(ids),
  );
}

export const releaseAllLeases = (db: Db, now: number): number =>
  db.run(
    "UPDATE deliveries SET next_attempt_at = ?, lease_owner = NULL, updated_at = ? WHERE status = 'pending' AND lease_owner IS NOT NULL",
    now, now,
  ).changes;

export const nextDueAt = (db: Db): number | null =>
  db.get<{ t: number | null }>("SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status = 'pending'")?.t ?? null;

export const extendLeases = (db: Db, owner: string, ids: readonly DeliveryId[], until: number): number =>
  db.run(
    `UPDATE deliveries SET next_attempt_at = ?
     WHERE lease_owner = ? AND status = 'pending' AND id IN (SELECT value FROM json_each(?))`,
    until, owner, jsonList(ids),
  ).changes;
