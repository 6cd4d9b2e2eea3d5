import { type EndpointId, type MessageId, newId } from "../../core/ids.js";
import type { Attempt, Delivery, DeliveryStatus, Message } from "../model.js";
import type { AttemptFilter, EndpointStats, MessageFilter, Page, PageRequest } from "../store.js";
import type { Db } from "./db.js";
import { requeued } from "./fifo.js";
import { cursorOf, toPage } from "../sql/paging.js";
import { type AttemptRow, type DeliveryRow, type MessageRow, toAttempt, toDelivery, toMessage } from "../sql/rows.js";
import { endpointStatsFrom, STATS_SAMPLE, type StatsAttemptRow } from "../stats.js";

/** Reading the message and attempt log, and putting deliveries back in the queue. */

export function listMessages(db: Db, appId: string, f: MessageFilter, page: PageRequest): Page<Message> {
  const rows = db.all<MessageRow>(
    `SELECT * FROM messages m
     WHERE m.app_id = @appId AND m.id < @cursor
       AND (@eventType IS NULL OR m.event_type = @eventType)
       AND (@before IS NULL OR m.created_at < @before)
       AND (@after IS NULL OR m.created_at > @after)
       AND (@status IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status = @status))
     ORDER BY m.id DESC LIMIT @limit`,
    {
      appId,
      cursor: cursorOf(page),
      eventType: f.eventType ?? null,
      before: f.before ?? null,
      after: f.after ?? null,
      status: f.status ?? null,
      limit: page.limit + 1,
    },
  );
  return toPage(rows, page.limit, toMessage);
}

export function getMessage(db: Db, appId: string, id: MessageId): Message | null {
  const row = db.get<MessageRow>("SELECT * FROM messages WHERE id = ? AND app_id = ?", id, appId);
  return row ? toMessage(row) : null;
}

export const listDeliveries = (db: Db, messageId: MessageId): Delivery[] =>
  db.all<DeliveryRow>("SELECT * FROM deliveries WHERE message_id = ? ORDER BY id", messageId).map(toDelivery);

export function listMessageAttempts(db: Db, messageId: MessageId, page: PageRequest): Page<Attempt> {
  const rows = db.all<AttemptRow>(
    "SELECT * FROM attempts WHERE message_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
    messageId, cursorOf(page), page.limit + 1,
  );
  return toPage(rows, page.limit, toAttempt);
}

export function listEndpointAttempts(db: Db, endpointId: EndpointId, page: PageRequest, f: AttemptFilter = {}): Page<Attempt> {
  // Walks the endpoint's attempts newest first (attempts_by_endpoint) and keeps those that match.
  const rows = db.all<AttemptRow>(
    `SELECT a.* FROM attempts a
     WHERE a.endpoint_id = @endpointId AND a.id < @cursor
       AND (@success IS NULL OR a.success = @success)
       AND (@statusCode IS NULL OR a.status_code = @statusCode)
       AND (@before IS NULL OR a.created_at < @before)
       AND (@after IS NULL OR a.created_at > @after)
       AND (@eventType IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.id = a.message_id AND m.event_type = @eventType))
     ORDER BY a.id DESC LIMIT @limit`,
    {
      endpointId,
      cursor: cursorOf(page),
      success: f.success === undefined ? null : f.success ? 1 : 0,
      statusCode: f.statusCode ?? null,
      before: f.before ?? null,
      after: f.after ?? null,
      eventType: f.eventType ?? null,
      limit: page.limit + 1,
    },
  );
  return toPage(rows, page.limit, toAttempt);
}

export function endpointStats(db: Db, endpointId: EndpointId, since: number, now: number): EndpointStats {
  const attempts = db.all<StatsAttemptRow>(
    `SELECT created_at, duration_ms, success FROM attempts
     WHERE endpoint_id = ? AND created_at >= ? ORDER BY id DESC LIMIT ?`,
    endpointId, since, STATS_SAMPLE,
  );
  const counts = db.all<{ status: DeliveryStatus; n: number }>(
    "SELECT status, COUNT(*) AS n FROM deliveries WHERE endpoint_id = ? GROUP BY status",
    endpointId,
  );
  return endpointStatsFrom(attempts, counts, since, now);
}

const REQUEUE = `UPDATE deliveries SET status = 'pending', schedule_index = 0, next_attempt_at = @now,
  cycle_started_at = NULL, lease_owner = NULL, updated_at = @now`;

export function resend(db: Db, message: Message, endpointId: EndpointId, now: number): Delivery {
  return db.tx(() => {
    const existing = db.get<{ id: string }>(
      "SELECT id FROM deliveries WHERE message_id = ? AND endpoint_id = ?",
      message.id, endpointId,
    );
    const id = existing?.id ?? newId("dlv", now);
    if (existing) {
      db.run(`${REQUEUE} WHERE id = @id`, { now, id });
    } else {
      db.run(
        `INSERT INTO deliveries (id, message_id, endpoint_id, app_id, status, attempts, schedule_index, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', 0, 0, ?, ?, ?)`,
        id, message.id, endpointId, message.appId, now, now, now,
      );
    }
    requeued(db, endpointId, [id], now);
    return toDelivery(db.get<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", id)!);
  });
}

/**
 * The endpoint's status is part of the statement (SQLite runs one writer at a
 * time, so no disable can land between that check and the re-queue); the
 * transaction only adds the read that tells "not active" from "nothing to do".
 */
export const recover = (db: Db, endpointId: EndpointId, since: number, now: number): number | null =>
  db.tx(() => {
    const ids = db
      .all<{ id: string }>(
        `${REQUEUE} WHERE endpoint_id = @endpointId AND status IN ('failed', 'skipped') AND created_at >= @since
           AND EXISTS (SELECT 1 FROM endpoints WHERE id = @endpointId AND status = 'active') RETURNING id`,
        { now, endpointId, since },
      )
      .map((r) => r.id);
    if (ids.length > 0) {
      requeued(db, endpointId, ids, now); // a FIFO endpoint replays them in their original order
      return ids.length;
    }
    return db.get("SELECT 1 FROM endpoints WHERE id = ? AND status = 'active'", endpointId) ? 0 : null;
  });
