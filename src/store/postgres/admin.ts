import { HeraldError } from "../../core/errors.js";
import type { AdminKeyId, ApplicationId, EndpointId, MessageId, OperationalEventId } from "../../core/ids.js";
import type { AdminKey, OperationalEvent, OperationalEventType } from "../model.js";
import { cursorOf, toPage } from "../sql/paging.js";
import type { OperationalEventFilter, Page, PageRequest } from "../store.js";
import { isUniqueViolation } from "./catalog.js";
import type { PgDb } from "./db.js";

/** Admin keys and the operational-event log. */

interface AdminKeyRow {
  id: string;
  name: string;
  key_hash: string;
  created_at: number;
}

const toAdminKey = (r: AdminKeyRow): AdminKey => ({ id: r.id as AdminKeyId, name: r.name, keyHash: r.key_hash, createdAt: r.created_at });

export async function createAdminKey(db: PgDb, key: AdminKey): Promise<AdminKey> {
  try {
    await db.query("INSERT INTO admin_keys (id, name, key_hash, created_at) VALUES ($1, $2, $3, $4)", [key.id, key.name, key.keyHash, key.createdAt]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", "an admin key with this hash already exists");
    throw err;
  }
  return key;
}

export async function listAdminKeys(db: PgDb, page: PageRequest): Promise<Page<AdminKey>> {
  const rows = await db.query<AdminKeyRow>("SELECT * FROM admin_keys WHERE id < $1 ORDER BY id DESC LIMIT $2", [cursorOf(page), page.limit + 1]);
  return toPage(rows, page.limit, toAdminKey);
}

export async function getAdminKeyByHash(db: PgDb, keyHash: string): Promise<AdminKey | null> {
  const [row] = await db.query<AdminKeyRow>("SELECT * FROM admin_keys WHERE key_hash = $1", [keyHash]);
  return row ? toAdminKey(row) : null;
}

export async function deleteAdminKey(db: PgDb, id: AdminKeyId): Promise<boolean> {
  const { rowCount } = await db.run("DELETE FROM admin_keys WHERE id = $1", [id]);
  return (rowCount ?? 0) > 0;
}

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

export async function recordOperationalEvent(db: PgDb, e: OperationalEvent): Promise<void> {
  await db.query(
    "INSERT INTO operational_events (id, type, app_id, endpoint_id, message_id, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    [e.id, e.type, e.appId, e.endpointId, e.messageId, JSON.stringify(e.data), e.createdAt],
  );
}

export async function listOperationalEvents(db: PgDb, filter: OperationalEventFilter, page: PageRequest): Promise<Page<OperationalEvent>> {
  // One statement text for every filter combination: a NULL parameter means "any".
  const rows = await db.query<OperationalEventRow>(
    `SELECT * FROM operational_events
     WHERE id < $1 AND ($2::text IS NULL OR app_id = $2) AND ($3::text IS NULL OR endpoint_id = $3) AND ($4::text IS NULL OR type = $4)
     ORDER BY id DESC LIMIT $5`,
    [cursorOf(page), filter.appId ?? null, filter.endpointId ?? null, filter.type ?? null, page.limit + 1],
  );
  return toPage(rows, page.limit, toOperationalEvent);
}
