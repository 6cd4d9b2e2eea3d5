import { HeraldError } from "../../core/errors.js";
import type { ApplicationId } from "../../core/ids.js";
import type { Application, EventType } from "../model.js";
import { definedOnly } from "../sql/rows.js";
import { cursorOf, toPage } from "../sql/paging.js";
import { type ApplicationRow, type EventTypeRow, jsonOrNull, toApplication, toEventType } from "../sql/rows.js";
import type { ApplicationPatch, EventTypePatch, Page, PageRequest } from "../store.js";
import type { PgDb } from "./db.js";
import { LOCK_PENDING_OF_APPLICATION } from "./endpoints.js";

/** Settings, applications and event types: the small, rarely written tables. */

export async function getSetting(db: PgDb, key: string): Promise<string | null> {
  const [row] = await db.query<{ value: string }>("SELECT value FROM settings WHERE key = $1", [key]);
  return row?.value ?? null;
}

export async function setSetting(db: PgDb, key: string, value: string): Promise<void> {
  await db.query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value]);
}

export async function setSettingIfAbsent(db: PgDb, key: string, value: string): Promise<boolean> {
  const { rowCount } = await db.run("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [key, value]);
  return (rowCount ?? 0) > 0;
}

/** PostgreSQL's `unique_violation`. */
export const isUniqueViolation = (err: unknown): boolean => (err as { code?: string } | null)?.code === "23505";

export async function createApplication(db: PgDb, app: Application): Promise<Application> {
  try {
    await db.query(
      "INSERT INTO applications (id, uid, name, metadata, portal, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      [app.id, app.uid, app.name, JSON.stringify(app.metadata), jsonOrNull(app.portal), app.createdAt, app.updatedAt],
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", `an application with uid ${JSON.stringify(app.uid)} already exists`);
    throw err;
  }
  return { ...app, portal: app.portal ?? null };
}

export async function getApplication(db: PgDb, idOrUid: string): Promise<Application | null> {
  // The id wins over a uid that happens to look like another application's id;
  // the uid is looked up only when no id matched (two index probes, no sort).
  const [row] = await db.query<ApplicationRow>(
    "(SELECT * FROM applications WHERE id = $1) UNION ALL (SELECT * FROM applications WHERE uid = $1) LIMIT 1",
    [idOrUid],
  );
  return row ? toApplication(row) : null;
}

export async function listApplications(db: PgDb, page: PageRequest): Promise<Page<Application>> {
  const rows = await db.query<ApplicationRow>("SELECT * FROM applications WHERE id < $1 ORDER BY id DESC LIMIT $2", [
    cursorOf(page),
    page.limit + 1,
  ]);
  return toPage(rows, page.limit, toApplication);
}

export async function updateApplication(db: PgDb, id: ApplicationId, patch: ApplicationPatch, now: number): Promise<Application | null> {
  const current = await getApplication(db, id);
  if (!current || current.id !== id) return null;
  const next: Application = { ...current, ...definedOnly(patch), updatedAt: now };
  try {
    await db.query("UPDATE applications SET uid = $1, name = $2, metadata = $3, portal = $4, updated_at = $5 WHERE id = $6", [
      next.uid,
      next.name,
      JSON.stringify(next.metadata),
      jsonOrNull(next.portal),
      now,
      id,
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", `an application with uid ${JSON.stringify(next.uid)} already exists`);
    throw err;
  }
  return next;
}

export async function deleteApplication(db: PgDb, id: ApplicationId): Promise<boolean> {
  return db.tx(async (c) => {
    await c.query(LOCK_PENDING_OF_APPLICATION, [id]);
    // Attempts carry no foreign key (cheap appends), so they go explicitly.
    await c.query("DELETE FROM attempts WHERE endpoint_id IN (SELECT id FROM endpoints WHERE app_id = $1)", [id]);
    // Settings named `…:<app id>` are the application's own (its portal tokens' expire-all time).
    await c.query("DELETE FROM settings WHERE right(key, $1) = $2", [id.length + 1, `:${id}`]);
    const { rowCount } = await c.query("DELETE FROM applications WHERE id = $1", [id]);
    return (rowCount ?? 0) > 0;
  });
}

export async function createEventType(db: PgDb, type: EventType): Promise<EventType> {
  try {
    await db.query(
      `INSERT INTO event_types (id, name, description, schema, examples, archived, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [type.id, type.name, type.description, jsonOrNull(type.schema), JSON.stringify(type.examples), type.archived, type.createdAt, type.updatedAt],
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", `event type ${JSON.stringify(type.name)} already exists`);
    throw err;
  }
  return type;
}

export async function getEventType(db: PgDb, name: string): Promise<EventType | null> {
  const [row] = await db.query<EventTypeRow>("SELECT * FROM event_types WHERE name = $1", [name]);
  return row ? toEventType(row) : null;
}

export async function listEventTypes(db: PgDb, page: PageRequest & { includeArchived?: boolean }): Promise<Page<EventType>> {
  const rows = await db.query<EventTypeRow>(
    "SELECT * FROM event_types WHERE id < $1 AND ($2 OR NOT archived) ORDER BY id DESC LIMIT $3",
    [cursorOf(page), page.includeArchived === true, page.limit + 1],
  );
  return toPage(rows, page.limit, toEventType);
}

export async function updateEventType(db: PgDb, name: string, patch: EventTypePatch, now: number): Promise<EventType | null> {
  const current = await getEventType(db, name);
  if (!current) return null;
  const next: EventType = { ...current, ...definedOnly(patch), updatedAt: now };
  try {
    await db.query(
      `UPDATE event_types SET name = $1, description = $2, schema = $3, examples = $4, archived = $5, updated_at = $6
       WHERE id = $7`,
      [next.name, next.description, jsonOrNull(next.schema), JSON.stringify(next.examples), next.archived, now, current.id],
    );
  } catch (err) {
    if (isUniqueViolation(err)) throw new HeraldError("conflict", `event type ${JSON.stringify(next.name)} already exists`);
    throw err;
  }
  return next;
}

export async function deleteEventType(db: PgDb, name: string): Promise<boolean> {
  const { rowCount } = await db.run("DELETE FROM event_types WHERE name = $1", [name]);
  return (rowCount ?? 0) > 0;
}
