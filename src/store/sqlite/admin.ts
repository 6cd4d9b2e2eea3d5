import { HeraldError } from "../../core/errors.js";
import type { AdminKeyId, ApplicationId, EndpointId, MessageId, OperationalEventId } from "../../core/ids.js";
import type { AdminKey, OperationalEvent, OperationalEventType } from "../model.js";
import type { OperationalEventFilter, Page, PageRequest } from "../store.js";
import type { Db } from "./db.js";
import { cursorOf, toPage } from "../sql/paging.js";

/** Admin keys and the operational-event log (migration 2). */

interface AdminKeyRow {
  id: string;
  name: string;
  key_hash: string;
  created_at: number;
}

const toAdminKey = (r: AdminKeyRow): AdminKey => ({ id: r.id as AdminKeyId, name: r.name, keyHash: r.key_hash, createdAt: r.created_at });

export function createAdminKey(db: Db, key: AdminKey): AdminKey {
  try {
    db.run("INSERT INTO admin_keys (id, name, key_hash, created_at) VALUES (?, ?, ?, ?)", key.id, key.name, key.keyHash, key.createdAt);
  } catch (err) {
    if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw new HeraldError("conflict", "an admin key with this hash already exists");
    throw err;
  }
  return key;
}

export function listAdminKeys(db: Db, page: PageRequest): Page<AdminKey> {
  const rows = db.all<AdminKeyRow>("SELECT * FROM admin_keys WHERE id < ? ORDER BY id DESC LIMIT ?", cursorOf(page), page.limit + 1);
  return toPage(rows, page.limit, toAdminKey);
}

export function getAdminKeyByHash(db: Db, keyHash: string): AdminKey | null {
  const row = db.get<AdminKeyRow>("SELECT * FROM admin_keys WHERE key_hash = ?", keyHash);
  return row ? toAdminKey(row) : null;
}

export const deleteAdminKey = (db: Db, id: AdminKeyId): boolean => db.run("DELETE FROM admin_keys WHERE id = ?", id).changes > 0;

interface OperationalEventRow {
  id: string;
  type: string;
  app_id: string;
  endpoint_id: string;
  message_id: string | null;
  data: string;
  created_at: number;
}

const toOperationalEvent = (r: OperationalEventRow): OperationalEvent => ({
  id: r.id as OperationalEventId,
  type: r.type as OperationalEventType,
  appId: r.app_id as ApplicationId,
  endpointId: r.endpoint_id as EndpointId,
  messageId: r.message_id as MessageId | null,
  data: JSON.parse(r.data) as Record<string, unknown>,
  createdAt: r.created_at,
});

export function recordOperationalEvent(db: Db, e: OperationalEvent): void {
  db.run(
    "INSERT INTO operational_events (id, type, app_id, endpoint_id, message_id, data, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    e.id, e.type, e.appId, e.endpointId, e.messageId, JSON.stringify(e.data), e.createdAt,
  );
}

export function listOperationalEvents(db: Db, filter: OperationalEventFilter, page: PageRequest): Page<OperationalEvent> {
  // One statement text for every filter combination: a NULL parameter means "any".
  const rows = db.all<OperationalEventRow>(
    `SELECT * FROM operational_events
     WHERE id < @cursor AND (@app IS NULL OR app_id = @app) AND (@ep IS NULL OR endpoint_id = @ep) AND (@type IS NULL OR type = @type)
     ORDER BY id DESC LIMIT @limit`,
    { cursor: cursorOf(page), app: filter.appId ?? null, ep: filter.endpointId ?? null, type: filter.type ?? null, limit: page.limit + 1 },
  );
  return toPage(rows, page.limit, toOperationalEvent);
}
