import type Database from "better-sqlite3";
import { HeraldError } from "../core/errors.js";
import { checkJsonText, checkJsonValue } from "../core/json-limits.js";
import type { PublishRequestInput } from "./types.js";
import type { EventType, Message } from "../store/model.js";
import { PostgresStore, type SqlClient } from "../store/postgres/index.js";
import { SqliteStore } from "../store/sqlite/index.js";
import type { Store } from "../store/store.js";

/**
 * The transactional outbox: publishing inside the caller's own database
 * transaction, so that an event exists if and only if the caller's change
 * commits. Two forms, one per backend:
 *
 * - SQLite: `herald.transaction((tx) => { tx.db.prepare(…).run(…); tx.publish({…}); })`,
 *   synchronous, on the store's own better-sqlite3 connection (durable commit).
 * - PostgreSQL: `await herald.publishWith(client, {…})` with the caller's `pg`
 *   client between its `BEGIN` and `COMMIT` (or anything with a
 *   `query(text, values)` that returns `{rows}`).
 *
 * Either way nothing is handed to a worker before the commit: the deliveries
 * are rows that become claimable when the transaction commits, and the
 * workers are woken then (SQLite: the local dispatcher after `fn` returns;
 * PostgreSQL: NOTIFY, which the server delivers at commit only).
 */

/** What `herald.transaction` gives its function. */
export interface SqliteTransaction {
  /** The store's better-sqlite3 connection, in the open transaction: run your own statements on it. */
  readonly db: Database.Database;
  /** Publishes in this transaction: the message and its deliveries commit or roll back with it. */
  publish(input: PublishRequestInput): { message: Message; created: boolean };
}

interface OutboxContext {
  store: Store;
  maxPayloadBytes: number;
  firstDelayMs: number;
  /** The event catalog's check, for a synchronous caller (throws `validation_failed`). */
  validateSync?: (eventType: string, payload: unknown, read: (name: string) => EventType | null) => void;
}

/**
 * Serializes and checks the payload of a library publish, once: JSON text as
 * given, a value as `JSON.stringify` writes it. Either must nest at most
 * `MAX_JSON_DEPTH` levels (`too_deep`) and come back from storage as it was
 * (no lone surrogates, no numbers beyond a double: `validation_failed`),
 * checked without recursion before anything serializes it.
 */
export function serializePayload(payload: unknown, maxPayloadBytes: number): string {
  if (typeof payload !== "string") checkJsonValue(payload, "/payload", "the payload");
  const text = typeof payload === "string" ? payload : JSON.stringify(payload);
  if (text === undefined) throw new HeraldError("validation_failed", "payload: must be a JSON value");
  if (Buffer.byteLength(text) > maxPayloadBytes) {
    throw new HeraldError("payload_too_large", `payload: larger than ${maxPayloadBytes} bytes`);
  }
  // Text from the caller gets the same checks (a value's own text passed them above).
  if (typeof payload === "string") checkJsonText(text, "the payload");
  return text;
}

const toOutboxMessage = (input: PublishRequestInput, maxPayloadBytes: number) => ({
  app: input.app,
  eventType: input.eventType,
  payload: serializePayload(input.payload, maxPayloadBytes),
  channels: input.channels ?? null,
  eventId: input.idempotencyKey ?? null,
});

function sqliteStore(store: Store, what: string): SqliteStore {
  if (!(store instanceof SqliteStore)) {
    throw new HeraldError("invalid_configuration", `${what} needs the SQLite store; on PostgreSQL use herald.publishWith(client, …)`);
  }
  return store;
}

/** The SQLite form; `committed` runs after a commit (never after a rollback). */
export function sqliteTransaction<T>(ctx: OutboxContext, fn: (tx: SqliteTransaction) => T, committed: () => void): T {
  const store = sqliteStore(ctx.store, "herald.transaction");
  let published = false;
  const result = store.transaction((db) => {
    const tx: SqliteTransaction = {
      db: db.raw,
      publish(input) {
        const message = toOutboxMessage(input, ctx.maxPayloadBytes);
        // Typed event types are checked against their catalog schema, as every other publish is.
        ctx.validateSync?.(input.eventType, typeof input.payload === "string" ? JSON.parse(message.payload) : input.payload, (name) =>
          store.eventTypeNow(name),
        );
        const r = store.publishInTransaction(message, { now: Date.now(), firstDelayMs: ctx.firstDelayMs });
        if (r.created) published = true;
        return { message: r.message, created: r.created };
      },
    };
    const value = fn(tx);
    if (value instanceof Promise) {
      // better-sqlite3 would commit before the promise settles: refuse instead of half-working.
      throw new TypeError("herald.transaction: the function must be synchronous (SQLite transactions cannot span an await)");
    }
    return value;
  });
  if (published) committed();
  return result;
}

/** The better-sqlite3 connection of a SQLite store (for tables that share its file and its transactions). */
export const sqliteHandle = (store: Store): Database.Database => sqliteStore(store, "herald.sqliteHandle()").db.raw;

/** The PostgreSQL form. */
export async function publishWith(
  ctx: OutboxContext,
  client: SqlClient,
  input: PublishRequestInput,
): Promise<{ message: Message; created: boolean }> {
  if (!(ctx.store instanceof PostgresStore)) {
    throw new HeraldError("invalid_configuration", "herald.publishWith needs the PostgreSQL store; on SQLite use herald.transaction((tx) => …)");
  }
  const r = await ctx.store.publishWith(client, toOutboxMessage(input, ctx.maxPayloadBytes), { now: Date.now(), firstDelayMs: ctx.firstDelayMs });
  return { message: r.message, created: r.created };
}
