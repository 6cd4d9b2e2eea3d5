import { notFound } from "../../core/errors.js";
import { newId } from "../../core/ids.js";
import type { Message } from "../model.js";
import type { OutboxMessage, PublishResult } from "../store.js";
import { getApplication } from "./catalog.js";
import type { Db } from "./db.js";
import { publish } from "./publish.js";


/**
 * The transactional outbox on SQLite: writes the message and its deliveries
 * synchronously with the store's own connection. Called inside
 * `SqliteStore.transaction`, it joins that transaction (better-sqlite3 nests it
 * as a savepoint), so the event exists if and only if the caller's change
 * commits. Nothing is leased: the deliveries are due at commit.
 */
export function publishInTransaction(db: Db, input: OutboxMessage, options: { now: number; firstDelayMs: number }): PublishResult {
  const app = getApplication(db, input.app);
  if (!app) throw notFound("application", input.app);
  const message: Message = {
    id: newId("msg", options.now),
    appId: app.id,
    eventType: input.eventType,
    eventId: input.eventId,
    payload: input.payload,
    channels: input.channels,
    createdAt: options.now,
  };
  return publish(db, [{ message }], options)[0]!;
}
