import type Database from "better-sqlite3";
import type { StoreEvent } from "./events.js";
import type { Tables } from "./repo.js";

/** Publishes an event in the open transaction. */
export type Emit = (event: StoreEvent) => void;

/**
 * What the store's operations run with: its tables, and a transaction in which
 * every change and the events it publishes commit together (Herald's
 * transactional outbox on the shared SQLite handle): an event exists if and
 * only if its change committed.
 */
export interface PetstoreContext {
  db: Database.Database;
  tables: Tables;
  transaction<T>(fn: (emit: Emit) => T): T;
}
