import { endpointsFor } from "../../core/filters.js";
import { newId } from "../../core/ids.js";
import type { Endpoint, Message } from "../model.js";
import { type EndpointRow, type MessageRow, toEndpoint, toMessage } from "../sql/rows.js";
import type { DeliveryJob, PublishOptions, PublishRequest, PublishResult } from "../store.js";
import { DUE_CHANNEL, type Queryable } from "./db.js";
import { advance, lockEndpoints, saveSequences } from "./fifo.js";

/**
 * Publishing on PostgreSQL. These statements also run on the caller's own
 * connection inside the caller's transaction (the transactional outbox), so
 * they name their schema, cast what they read to types every client parses
 * alike, and keep to a handful of round trips however large the batch.
 */

/** The columns of a message, in shapes that do not depend on the client's type parsers. */
const MESSAGE_COLUMNS = "id, app_id, event_type, event_id, payload, channels::text AS channels, created_at::float8 AS created_at";
const ENDPOINT_COLUMNS = `id, app_id, url, description, events::text AS events, channels::text AS channels, filter::text AS filter, ordering, transformation::text AS transformation, status, disabled_reason,
  secret, previous_secret, previous_secret_expires_at::float8 AS previous_secret_expires_at, headers::text AS headers,
  authentication::text AS authentication, timeout_ms, rate_limit, metadata::text AS metadata,
  last_success_at::float8 AS last_success_at, created_at::float8 AS created_at, updated_at::float8 AS updated_at`;

export interface PublishTarget {
  /** The schema as a quoted identifier. */
  qschema: string;
  /** The schema's name: the NOTIFY payload that wakes its workers. */
  schema: string;
}

const keyOf = (m: Message): string => `${m.appId}\u0000${m.eventId}`;

/**
 * Writes messages and their deliveries with the given connection: three round
 * trips at most (keys, endpoints, one writing statement) whatever the batch
 * size. On the store's pool the writing statement commits on its own; on a
 * caller's connection it joins the caller's transaction. Deliveries that any
 * worker may claim now are announced with NOTIFY, which PostgreSQL delivers
 * only if and when that transaction commits.
 */
export async function publishBatch(
  q: Queryable,
  t: PublishTarget,
  batch: readonly PublishRequest[],
  options: PublishOptions,
  inTransaction?: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>,
): Promise<PublishResult[]> {
  const { now } = options;
  const firstDelay = options.firstDelayMs ?? 0;
  const lease = firstDelay === 0 ? options.lease : undefined;
  const s = t.qschema;

  // Idempotency: a key already stored returns its message; a key repeated
  // within the batch returns the batch's first message with that key.
  const existing = new Map<string, Message>();
  const keyed = batch.filter((r) => r.message.eventId !== null);
  if (keyed.length > 0) {
    const { rows } = await q.query<MessageRow>(
      `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages
       WHERE (app_id, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [keyed.map((r) => r.message.appId), keyed.map((r) => r.message.eventId)],
    );
    for (const row of rows) existing.set(keyOf(toMessage(row)), toMessage(row));
  }
  const fresh: PublishRequest[] = [];
  const firstWithKey = new Map<string, Message>();
  for (const r of batch) {
    if (r.message.eventId === null) fresh.push(r);
    else if (!existing.has(keyOf(r.message)) && !firstWithKey.has(keyOf(r.message))) {
      firstWithKey.set(keyOf(r.message), r.message);
      fresh.push(r);
    }
  }

  const endpointsByApp = await loadEndpoints(q, s, [...new Set(fresh.map((r) => r.message.appId))]);
  const d = { id: [] as string[], message: [] as string[], endpoint: [] as string[], app: [] as string[], status: [] as string[], next: [] as (number | null)[], owner: [] as (string | null)[], seq: [] as (number | null)[] };
  /** Positions in `d` of the deliveries to FIFO endpoints: numbered under the endpoints' locks, below. */
  const fifo: number[] = [];
  const jobsOf = new Map<string, DeliveryJob[]>();
  const queuedOf = new Map<string, number>();
  // What the dispatcher has room for: the rest is written due now, for a claim.
  let budget = lease?.max ?? 0;
  for (const { message, only } of fresh) {
    const endpoints = endpointsByApp.get(message.appId) ?? [];
    const targets = only ? endpoints.filter((e) => e.id === only) : endpointsFor(endpoints, message);
    const jobs: DeliveryJob[] = [];
    let queued = 0;
    for (const endpoint of targets) {
      const id = newId("dlv", now);
      // Deliveries to a disabled endpoint are kept as `skipped`: nothing is
      // lost, and `recover` can queue them once it is enabled again.
      const active = endpoint.status === "active";
      // A FIFO delivery is written parked (no next_attempt_at) and never
      // leased here: `advance` makes its queue's head due, and the claim
      // hands the queue out one delivery at a time.
      const ordered = endpoint.ordering === "fifo";
      if (ordered) fifo.push(d.id.length);
      const leased = active && !ordered && lease !== undefined && budget > 0;
      if (leased) budget--;
      else if (active) queued++;
      d.id.push(id);
      d.message.push(message.id);
      d.endpoint.push(endpoint.id);
      d.app.push(message.appId);
      d.status.push(active ? "pending" : "skipped");
      d.next.push(active && !ordered ? (leased ? lease.until : now + firstDelay) : null);
      d.owner.push(leased ? lease.owner : null);
      d.seq.push(null);
      if (leased) {
        jobs.push({
          delivery: { id, messageId: message.id, endpointId: endpoint.id, appId: message.appId, attempts: 0, scheduleIndex: 0, cycleStartedAt: null },
          message: { id: message.id, eventType: message.eventType, payload: message.payload, createdAt: message.createdAt, ...(message.traceContext ? { traceContext: message.traceContext } : {}) },
          endpoint,
          // A new row starts at generation 0; every claim increments it.
          lease: { owner: lease.owner, gen: 0 },
        });
      }
    }
    jobsOf.set(message.id, jobs);
    queuedOf.set(message.id, queued);
  }

  // Messages and deliveries in one statement, atomic on its own. A concurrent
  // transaction may commit the same key between the read above and this
  // insert: ON CONFLICT waits for it and skips that message, its deliveries
  // are not written, and the message it stored is answered instead.
  const inserted = new Set<string>();
  const write = async (w: Queryable): Promise<void> => {
    const m = fresh.map((r) => r.message);
    const { rows } = await w.query<{ inserted: string[] }>(
      `WITH m AS (
         INSERT INTO ${s}.messages (id, app_id, event_type, event_id, payload, channels, created_at, trace_context)
         SELECT id, app_id, event_type, event_id, payload, channels::jsonb, created_at, trace_context
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $18::text[])
           AS t(id, app_id, event_type, event_id, payload, channels, created_at, trace_context)
         ON CONFLICT (app_id, event_id) WHERE event_id IS NOT NULL DO NOTHING
         RETURNING id),
       d AS (
         INSERT INTO ${s}.deliveries
           (id, message_id, endpoint_id, app_id, status, attempts, schedule_index, next_attempt_at, lease_owner, created_at, updated_at, seq)
         SELECT id, message_id, endpoint_id, app_id, status, 0, 0, next_attempt_at, lease_owner, $15, $15, seq
         FROM unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[], $19::bigint[])
           AS t(id, message_id, endpoint_id, app_id, status, next_attempt_at, lease_owner, seq)
         WHERE message_id IN (SELECT id FROM m)
           -- An endpoint deleted since it was read gets no delivery (instead of a
           -- foreign-key error failing the whole batch); the share lock keeps the
           -- ones that remain from being deleted until this commits.
           AND endpoint_id IN (SELECT id FROM ${s}.endpoints WHERE id = ANY($10::text[]) FOR KEY SHARE)
         RETURNING status = 'pending' AND lease_owner IS NULL AND next_attempt_at IS NOT NULL AS claimable)
       SELECT (SELECT coalesce(array_agg(id), '{}') FROM m) AS inserted,
         -- Wakes the workers at commit, if any delivery is theirs to claim.
         (SELECT pg_notify($16, $17) WHERE EXISTS (SELECT 1 FROM d WHERE claimable)) AS notified`,
      [
        m.map((x) => x.id), m.map((x) => x.appId), m.map((x) => x.eventType), m.map((x) => x.eventId), m.map((x) => x.payload),
        m.map((x) => (x.channels === null ? null : JSON.stringify(x.channels))), m.map((x) => x.createdAt),
        d.id, d.message, d.endpoint, d.app, d.status, d.next, d.owner, now, DUE_CHANNEL, t.schema,
        m.map((x) => x.traceContext ?? null), d.seq,
      ],
    );
    for (const id of rows[0]?.inserted ?? []) inserted.add(id);
  };
  // FIFO endpoints: their rows locked, numbers taken in batch order, the
  // deliveries written parked, each queue advanced: one transaction, so the
  // numbers follow the order in which publishes to an endpoint commit.
  const ordered = async (w: Queryable): Promise<void> => {
    const endpointIds = [...new Set(fifo.map((i) => d.endpoint[i]!))];
    const locked = await lockEndpoints(w, t, endpointIds);
    const last = new Map<string, number>();
    for (const i of fifo) {
      const ep = locked.get(d.endpoint[i]!);
      if (!ep) continue; // deleted meanwhile: the insert drops its delivery
      if (ep.ordering !== "fifo") {
        // No longer FIFO since it was read: written as any other delivery.
        if (d.status[i] === "pending") d.next[i] = now + firstDelay;
        continue;
      }
      const seq = (last.get(d.endpoint[i]!) ?? ep.fifoSeq) + 1;
      last.set(d.endpoint[i]!, seq);
      d.seq[i] = seq;
    }
    await saveSequences(w, t, last);
    await write(w);
    for (const id of last.keys()) await advance(w, t, id, now + firstDelay, now);
  };
  if (fresh.length > 0) {
    if (fifo.length === 0) await write(q);
    else if (inTransaction) await inTransaction(ordered);
    else await ordered(q); // the caller's transaction (outbox)
    const lost = fresh.filter((r) => !inserted.has(r.message.id));
    if (lost.length > 0) {
      const { rows: won } = await q.query<MessageRow>(
        `SELECT ${MESSAGE_COLUMNS} FROM ${s}.messages WHERE (app_id, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [lost.map((r) => r.message.appId), lost.map((r) => r.message.eventId)],
      );
      for (const row of won) existing.set(keyOf(toMessage(row)), toMessage(row));
    }
  }

  return batch.map(({ message }) => {
    if (inserted.has(message.id)) return { message, created: true, jobs: jobsOf.get(message.id) ?? [], queued: queuedOf.get(message.id) ?? 0 };
    const first = existing.get(keyOf(message)) ?? firstWithKey.get(keyOf(message))!;
    return { message: first, created: false, jobs: [], queued: 0 };
  });
}

async function loadEndpoints(q: Queryable, s: string, appIds: string[]): Promise<Map<string, Endpoint[]>> {
  const byApp = new Map<string, Endpoint[]>();
  if (appIds.length === 0) return byApp;
  const { rows } = await q.query<EndpointRow>(`SELECT ${ENDPOINT_COLUMNS} FROM ${s}.endpoints WHERE app_id = ANY($1::text[])`, [appIds]);
  for (const row of rows) {
    const ep = toEndpoint(row);
    const list = byApp.get(ep.appId);
    if (list) list.push(ep);
    else byApp.set(ep.appId, [ep]);
  }
  return byApp;
}

/** Finds an application by `app_` id or `uid` on any connection (the outbox resolves it in the caller's transaction). */
export async function findApplicationId(q: Queryable, t: PublishTarget, idOrUid: string): Promise<string | null> {
  const { rows } = await q.query<{ id: string }>(
    `SELECT id FROM ${t.qschema}.applications WHERE id = $1 OR uid = $1 ORDER BY (id = $1) DESC LIMIT 1`,
    [idOrUid],
  );
  return rows[0]?.id ?? null;
}
