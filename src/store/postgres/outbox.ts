import { notFound } from "../../core/errors.js";
import { type ApplicationId, newId } from "../../core/ids.js";
import type { Message } from "../model.js";
import type { OutboxMessage, PublishResult } from "../store.js";
import type { Queryable } from "./db.js";
import { findApplicationId, type PublishTarget, publishBatch } from "./publish.js";

/**
 * The caller's connection, in the caller's transaction: a `pg` client, or
 * anything with `query(text, values)` that resolves to `{ rows }` (a query
 * builder's transaction wrapped in one line).
 */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}


const SAVEPOINT = "herald_publish";

/**
 * The transactional outbox on PostgreSQL: writes the message and its
 * deliveries with the caller's connection, inside the caller's open
 * transaction, so they commit or roll back with the caller's own change.
 * Nothing is leased: the deliveries are due at commit, and the NOTIFY in the
 * same transaction wakes the workers then (never before, never on rollback).
 *
 * A savepoint brackets Herald's statements: it proves a transaction is open
 * (outside one, PostgreSQL refuses it and nothing is written), and a failure
 * here is rolled back to it, leaving the caller's transaction usable.
 */
export async function publishWith(
  client: SqlClient,
  t: PublishTarget,
  input: OutboxMessage,
  options: { now: number; firstDelayMs: number },
): Promise<PublishResult> {
  // Herald's statements cast what they read, so rows come back alike from any client.
  const q = client as Queryable;
  try {
    await q.query(`SAVEPOINT ${SAVEPOINT}`);
  } catch (err) {
    if ((err as { code?: string }).code === "25P01") {
      throw new TypeError("publishWith: the client has no open transaction; call BEGIN first (or use herald.publish)");
    }
    throw err;
  }
  try {
    const appId = await findApplicationId(q, t, input.app);
    if (!appId) throw notFound("application", input.app);
    const message: Message = {
      id: newId("msg", options.now),
      appId: appId as ApplicationId,
      eventType: input.eventType,
      eventId: input.eventId,
      payload: input.payload,
      channels: input.channels,
      createdAt: options.now,
    };
    const [result] = await publishBatch(q, t, [{ message }], options);
    await q.query(`RELEASE SAVEPOINT ${SAVEPOINT}`);
    return result!;
  } catch (err) {
    await q
      .query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}`)
      .then(() => q.query(`RELEASE SAVEPOINT ${SAVEPOINT}`))
      .catch(() => {});
    throw err;
  }
}
