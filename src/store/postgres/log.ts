import { type EndpointId, type MessageId, newId } from "../../core/ids.js";
import type { Attempt, Delivery, DeliveryStatus, Message } from "../model.js";
import { cursorOf, toPage } from "../sql/paging.js";
import { type AttemptRow, type DeliveryRow, type MessageRow, toAttempt, toDelivery, toMessage } from "../sql/rows.js";
import { endpointStatsFrom, STATS_SAMPLE, type StatsAttemptRow } from "../stats.js";
import type { AttemptFilter, EndpointStats, MessageFilter, Page, PageRequest } from "../store.js";
import { lockEndpoints, requeued } from "./fifo.js";
import { DUE_CHANNEL, type PgDb } from "./db.js";

/** Reading the message and attempt log, and putting deliveries back in the queue. */

export async function listMessages(db: PgDb, appId: string, f: MessageFilter, page: PageRequest): Promise<Page<Message>> {
  const rows = await db.query<MessageRow>(
    `SELECT * FROM messages m
     WHERE m.app_id = $1 AND m.id < $2
       AND ($3::text IS NULL OR m.event_type = $3)
       AND ($4::bigint IS NULL OR m.created_at < $4)
       AND ($5::bigint IS NULL OR m.created_at > $5)
       AND ($6::text IS NULL OR EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status = $6))
     ORDER BY m.id DESC LIMIT $7`,
    [appId, cursorOf(page), f.eventType ?? null, f.before ?? null, f.after ?? null, f.status ?? null, page.limit + 1],
  );
  return toPage(rows, page.limit, toMessage);
}

export async function getMessage(db: PgDb, appId: string, id: MessageId): Promise<Message | null> {
  const [row] = await db.query<MessageRow>("SELECT * FROM messages WHERE id = $1 AND app_id = $2", [id, appId]);
  return row ? toMessage(row) : null;
}

export async function listDeliveries(db: PgDb, messageId: MessageId): Promise<Delivery[]> {
  return (await db.query<DeliveryRow>("SELECT * FROM deliveries WHERE message_id = $1 ORDER BY id", [messageId])).map(toDelivery);
}

export async function listMessageAttempts(db: PgDb, messageId: MessageId, page: PageRequest): Promise<Page<Attempt>> {
  const rows = await db.query<AttemptRow>("SELECT * FROM attempts WHERE message_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3", [
    messageId,
    cursorOf(page),
    page.limit + 1,
  ]);
  return toPage(rows, page.limit, toAttempt);
}

export async function listEndpointAttempts(db: PgDb, endpointId: EndpointId, page: PageRequest, f: AttemptFilter = {}): Promise<Page<Attempt>> {
  // Walks the endpoint's attempts newest first (attempts_by_endpoint) and keeps those that match.
  const rows = await db.query<AttemptRow>(
    `SELECT a.* FROM attempts a
     WHERE a.endpoint_id = $1 AND a.id < $2
       AND ($3::boolean IS NULL OR a.success = $3)
       AND ($4::integer IS NULL OR a.status_code = $4)
       AND ($5::bigint IS NULL OR a.created_at < $5)
       AND ($6::bigint IS NULL OR a.created_at > $6)
       AND ($7::text IS NULL OR EXISTS (SELECT 1 FROM messages m WHERE m.id = a.message_id AND m.event_type = $7))
     ORDER BY a.id DESC LIMIT $8`,
    [endpointId, cursorOf(page), f.success ?? null, f.statusCode ?? null, f.before ?? null, f.after ?? null, f.eventType ?? null, page.limit + 1],
  );
  return toPage(rows, page.limit, toAttempt);
}

export async function endpointStats(db: PgDb, endpointId: EndpointId, since: number, now: number): Promise<EndpointStats> {
  const [attempts, counts] = await Promise.all([
    db.query<StatsAttemptRow>(
      `SELECT created_at, duration_ms, success FROM attempts
       WHERE endpoint_id = $1 AND created_at >= $2 ORDER BY id DESC LIMIT $3`,
      [endpointId, since, STATS_SAMPLE],
    ),
    db.query<{ status: DeliveryStatus; n: number }>("SELECT status, COUNT(*) AS n FROM deliveries WHERE endpoint_id = $1 GROUP BY status", [
      endpointId,
    ]),
  ]);
  return endpointStatsFrom(attempts, counts, since, now);
}

/**
 * Queues one more delivery now, at the start of the schedule: one upsert,
 * creating the delivery if that endpoint never had one. Its NOTIFY wakes the
 * workers at commit.
 */
export async function resend(db: PgDb, message: Message, endpointId: EndpointId, now: number): Promise<Delivery> {
  return db.tx(async (q) => {
    // The endpoint's lock first, as every change to a FIFO queue takes it (src/store/postgres/fifo.ts).
    const locked = await lockEndpoints(q, db, [endpointId]);
    const { rows } = await q.query<DeliveryRow & { notified: unknown }>(
      `WITH d AS (
         INSERT INTO deliveries (id, message_id, endpoint_id, app_id, status, attempts, schedule_index, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'pending', 0, 0, $5, $5, $5)
         ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = 'pending', schedule_index = 0, next_attempt_at = $5,
           cycle_started_at = NULL, lease_owner = NULL, updated_at = $5
         RETURNING *)
       SELECT d.*, pg_notify('${DUE_CHANNEL}', current_schema()) AS notified FROM d`,
      [newId("dlv", now), message.id, endpointId, message.appId, now],
    );
    const { notified: _, ...delivery } = rows[0]!;
    if (locked.get(endpointId)?.ordering !== "fifo") return toDelivery(delivery);
    // FIFO: back at its original place in the queue, which advances.
    await requeued(q, db, endpointId, [delivery.id], now);
    const { rows: again } = await q.query<DeliveryRow>("SELECT * FROM deliveries WHERE id = $1 AND message_id = $2", [delivery.id, message.id]);
    return toDelivery(again[0]!);
  });
}

/**
 * The re-queue runs only while the endpoint is active, checked in the same
 * transaction under a lock on its row: a concurrent disable either committed
 * first (null) or waits until this re-queue has committed. The lock is also
 * the one every change to a FIFO queue takes (src/store/postgres/fifo.ts).
 */
export async function recover(db: PgDb, endpointId: EndpointId, since: number, now: number): Promise<number | null> {
  return db.tx(async (q) => {
    const { rows: ep } = await q.query<{ ordering: string }>("SELECT ordering FROM endpoints WHERE id = $1 AND status = 'active' FOR UPDATE", [
      endpointId,
    ]);
    if (!ep[0]) return null;
    const fifo = ep[0].ordering === "fifo";
    const { rows } = await q.query<{ id: string }>(
      `UPDATE deliveries SET status = 'pending', schedule_index = 0, next_attempt_at = $1,
         cycle_started_at = NULL, lease_owner = NULL, updated_at = $1
       WHERE endpoint_id = $2 AND status IN ('failed', 'skipped') AND created_at >= $3
       RETURNING id`,
      [now, endpointId, since],
    );
    if (rows.length === 0) return 0;
    // FIFO: they go back to their original places in the queue, parked, and the queue advances.
    if (fifo) await requeued(q, db, endpointId, rows.map((r) => r.id), now);
    else await q.query("SELECT pg_notify($1, current_schema())", [DUE_CHANNEL]);
    return rows.length;
  });
}
