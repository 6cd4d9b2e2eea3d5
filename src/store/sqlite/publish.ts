import { endpointsFor } from "../../core/filters.js";
import { newId } from "../../core/ids.js";
import type { Endpoint, Message } from "../model.js";
import type { DeliveryJob, PublishOptions, PublishRequest, PublishResult } from "../store.js";
import type { Db } from "./db.js";
import { endpointsOfApp } from "./endpoints.js";
import { advance, takeSeq } from "./fifo.js";
import { type MessageRow, toMessage } from "../sql/rows.js";

const INSERT_MESSAGE =
  "INSERT INTO messages (id, app_id, event_type, event_id, payload, channels, created_at, trace_context) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
const INSERT_DELIVERY = `INSERT INTO deliveries
  (id, message_id, endpoint_id, app_id, status, attempts, schedule_index, next_attempt_at, lease_owner, created_at, updated_at, seq)
  VALUES (?, ?, ?, ?, ?, 0, 0, ?, ?, ?, ?, ?)`;

/**
 * Writes a batch of messages and their deliveries in one transaction: the
 * caller (the group-commit publisher) answers every request of the batch only
 * after this returns, i.e. after one synced commit.
 */
export function publish(db: Db, batch: readonly PublishRequest[], options: PublishOptions): PublishResult[] {
  const { now } = options;
  const firstDelay = options.firstDelayMs ?? 0;
  const lease = firstDelay === 0 ? options.lease : undefined;
  // What the dispatcher has room for: the rest is written due now, for a claim.
  const budget = { left: lease?.max ?? 0 };
  return db.tx(() => {
    const endpointsByApp = new Map<string, Endpoint[]>();
    const byKey = new Map<string, PublishResult>();
    const fifo = new Set<string>();
    const results = batch.map(({ message, only }) => {
      if (message.eventId !== null) {
        const key = `${message.appId}\u0000${message.eventId}`;
        const seen = byKey.get(key);
        if (seen) return { message: seen.message, created: false, jobs: [], queued: 0 };
        const existing = db.get<MessageRow>(
          "SELECT * FROM messages WHERE app_id = ? AND event_id = ?",
          message.appId, message.eventId,
        );
        if (existing) return { message: toMessage(existing), created: false, jobs: [], queued: 0 };
      }
      const result = insertMessage(db, message, only, endpointsByApp, now, firstDelay, lease, budget, fifo);
      if (message.eventId !== null) byKey.set(`${message.appId}\u0000${message.eventId}`, result);
      return result;
    });
    // FIFO deliveries were written parked, in publish order: the queue's head becomes due.
    for (const endpointId of fifo) advance(db, endpointId, now + firstDelay);
    return results;
  });
}

function insertMessage(
  db: Db,
  message: Message,
  only: string | undefined,
  endpointsByApp: Map<string, Endpoint[]>,
  now: number,
  firstDelay: number,
  lease: PublishOptions["lease"],
  budget: { left: number },
  fifo: Set<string>,
): PublishResult {
  db.run(
    INSERT_MESSAGE,
    message.id, message.appId, message.eventType, message.eventId, message.payload,
    message.channels === null ? null : JSON.stringify(message.channels), message.createdAt, message.traceContext ?? null,
  );
  let endpoints = endpointsByApp.get(message.appId);
  if (!endpoints) {
    endpoints = endpointsOfApp(db, message.appId);
    endpointsByApp.set(message.appId, endpoints);
  }
  const targets = only ? endpoints.filter((e) => e.id === only) : endpointsFor(endpoints, message);
  const jobs: DeliveryJob[] = [];
  let queued = 0;
  for (const endpoint of targets) {
    const id = newId("dlv", now);
    // A FIFO delivery takes the next place in its endpoint's queue, parked
    // (`advance` makes the head due) and never leased here: the claim hands
    // out the queue one delivery at a time.
    const seq = endpoint.ordering === "fifo" ? takeSeq(db, endpoint.id, 1) : null;
    // Deliveries to a disabled endpoint are kept as `skipped`: nothing is lost,
    // and `recover` can queue them once the endpoint is enabled again.
    if (endpoint.status !== "active") {
      db.run(INSERT_DELIVERY, id, message.id, endpoint.id, message.appId, "skipped", null, null, now, now, seq);
      continue;
    }
    if (seq !== null) {
      db.run(INSERT_DELIVERY, id, message.id, endpoint.id, message.appId, "pending", null, null, now, now, seq);
      fifo.add(endpoint.id);
      queued++;
      continue;
    }
    const leased = lease !== undefined && budget.left > 0;
    db.run(
      INSERT_DELIVERY,
      id, message.id, endpoint.id, message.appId, "pending",
      leased ? lease.until : now + firstDelay, leased ? lease.owner : null, now, now, null,
    );
    if (!leased) queued++;
    else {
      budget.left--;
      jobs.push({
        delivery: { id, messageId: message.id, endpointId: endpoint.id, appId: message.appId, attempts: 0, scheduleIndex: 0, cycleStartedAt: null },
        message: { id: message.id, eventType: message.eventType, payload: message.payload, createdAt: message.createdAt, ...(message.traceContext ? { traceContext: message.traceContext } : {}) },
        endpoint,
        // A new row starts at generation 0; every claim increments it.
        lease: { owner: lease.owner, gen: 0 },
      });
    }
  }
  return { message, created: true, jobs, queued };
}
