import { HeraldError } from "../../core/errors.js";
import { type ApplicationId, isId } from "../../core/ids.js";
import type { Application, EventType } from "../model.js";
import type { ApplicationPatch, EventTypePatch, Page, PageRequest } from "../store.js";
import type { Db } from "./db.js";
import { cursorOf, toPage } from "../sql/paging.js";
import { type ApplicationRow, definedOnly, type EventTypeRow, jsonOrNull, toApplication, toEventType } from "../sql/rows.js";

/** Settings, applications and event types: the small, rarely written tables. */

export const getSetting = (db: Db, key: string): string | null =>
  db.get<{ value: string }>("SELECT value FROM settings WHERE key = ?", key)?.value ?? null;

export function setSetting(db: Db, key: string, value: string): void {
  db.run("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", key, value);
}

export const setSettingIfAbsent = (db: Db, key: string, value: string): boolean =>
  db.run("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", key, value).changes > 0;

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Error && (err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE";
}

export function createApplication(db: Db, app: Application): Application {
  try {
    db.run(
      "INSERT INTO applications (id, uid, name, metadata, portal, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
      app.id, app.uid, app.name, JSON.stringify(app.metadata), jsonOrNull(app.portal), app.createdAt, app.updatedAt,
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", `an application with uid ${JSON.stringify(app.uid)} already exists`);
    throw err;
  }
  return { ...app, portal: app.portal ?? null };
}

export function getApplication(db: Db, idOrUid: string): Application | null {
  // The id wins over a uid that happens to look like another application's id; a ref that is not
  // shaped like an id can only be a uid (one query instead of two on the publish path).
  const row =
    (isId("app", idOrUid) ? db.get<ApplicationRow>("SELECT * FROM applications WHERE id = ?", idOrUid) : undefined) ??
    db.get<ApplicationRow>("SELECT * FROM applications WHERE uid = ?", idOrUid);
  return row ? toApplication(row) : null;
}

export function listApplications(db: Db, page: PageRequest): Page<Application> {
  const rows = db.all<ApplicationRow>("SELECT * FROM applications WHERE id < ? ORDER BY id DESC LIMIT ?", cursorOf(page), page.limit + 1);
  return toPage(rows, page.limit, toApplication);
}

export function updateApplication(db: Db, id: ApplicationId, patch: ApplicationPatch, now: number): Application | null {
  const current = getApplication(db, id);
  if (!current || current.id !== id) return null;
  const next: Application = { ...current, ...definedOnly(patch), updatedAt: now };
  try {
    db.run(
      "UPDATE applications SET uid = ?, name = ?, metadata = ?, portal = ?, updated_at = ? WHERE id = ?",
      next.uid, next.name, JSON.stringify(next.metadata), jsonOrNull(next.portal), now, id,
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", `an application with uid ${JSON.stringify(next.uid)} already exists`);
    throw err;
  }
  return next;
}

export function deleteApplication(db: Db, id: ApplicationId): boolean {
  return db.tx(() => {
    // Attempts carry no foreign key (cheap appends), so they go explicitly.
    db.run("DELETE FROM attempts WHERE endpoint_id IN (SELECT id FROM endpoints WHERE app_id = ?)", id);
    // Settings named `…:<app id>` are the application's own (its portal tokens' expire-all time).
    db.run("DELETE FROM settings WHERE substr(key, -?) = ?", id.length + 1, `:${id}`);
    return db.run("DELETE FROM applications WHERE id = ?", id).changes > 0;
  });
}

export function createEventType(db: Db, type: EventType): EventType {
  try {
    db.run(
      "INSERT INTO event_types (id, name, description, schema, examples, archived, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      type.id, type.name, type.description, jsonOrNull(type.schema), JSON.stringify(type.examples), type.archived ? 1 : 0,
      type.createdAt, type.updatedAt,
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", `event type ${JSON.stringify(type.name)} already exists`);
    throw err;
  }
  return type;
}

export function getEventType(db: Db, name: string): EventType | null {
  const row = db.get<EventTypeRow>("SELECT * FROM event_types WHERE name = ?", name);
  return row ? toEventType(row) : null;
}

export function listEventTypes(db: Db, page: PageRequest & { includeArchived?: boolean }): Page<EventType> {
  const rows = db.all<EventTypeRow>(
    "SELECT * FROM event_types WHERE id < ? AND (? = 1 OR archived = 0) ORDER BY id DESC LIMIT ?",
    cursorOf(page), page.includeArchived ? 1 : 0, page.limit + 1,
  );
  return toPage(rows, page.limit, toEventType);
}

export function updateEventType(db: Db, name: string, patch: EventTypePatch, now: number): EventType | null {
  const current = getEventType(db, name);
  if (!current) return null;
  const next: EventType = { ...current, ...definedOnly(patch), updatedAt: now };
  try {
    db.run(
      "UPDATE event_types SET name = ?, description = ?, schema = ?, examples = ?, archived = ?, updated_at = ? WHERE id = ?",
      next.name, next.description, jsonOrNull(next.schema), JSON.stringify(next.examples), next.archived ? 1 : 0, now, current.id,
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", `event type ${JSON.stringify(next.name)} already exists`);
    throw err;
  }
  return next;
}

export const deleteEventType = (db: Db, name: string): boolean =>
  db.run("DELETE FROM event_types WHERE name = ?", name).changes > 0;

