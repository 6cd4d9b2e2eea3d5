import type { ApplicationId, EndpointId } from "../../core/ids.js";
import type { Endpoint } from "../model.js";
import { patchColumns, RESET_FAILURES_WHERE } from "../sql/endpoint-patch.js";
import { cursorOf, toPage } from "../sql/paging.js";
import { type EndpointRow, jsonOrNull, toEndpoint } from "../sql/rows.js";
import type { EndpointPatch, EndpointStatusChange, NewEndpoint, Page, PageRequest } from "../store.js";
import { DUE_CHANNEL, type PgDb } from "./db.js";
import { lockEndpoints, orderingChanged } from "./fifo.js";

export async function createEndpoint(db: PgDb, ep: NewEndpoint): Promise<Endpoint> {
  const endpoint: Endpoint = { ...ep, previousSecret: null, previousSecretExpiresAt: null, lastSuccessAt: null, updatedAt: ep.createdAt };
  await db.query(
    `INSERT INTO endpoints (id, app_id, url, description, events, channels, status, disabled_reason, secret,
       headers, authentication, timeout_ms, rate_limit, metadata, created_at, updated_at, filter, ordering, transformation)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
    [
      endpoint.id, endpoint.appId, endpoint.url, endpoint.description, jsonOrNull(endpoint.events), jsonOrNull(endpoint.channels),
      endpoint.status, endpoint.disabledReason, endpoint.secret, JSON.stringify(endpoint.headers), jsonOrNull(endpoint.authentication),
      endpoint.timeoutMs, endpoint.rateLimit, JSON.stringify(endpoint.metadata), endpoint.createdAt, endpoint.updatedAt,
    jsonOrNull(endpoint.filter), endpoint.ordering, jsonOrNull(endpoint.transformation),
    ],
  );
  return endpoint;
}

export async function getEndpoint(db: PgDb, appId: ApplicationId, id: EndpointId): Promise<Endpoint | null> {
  const [row] = await db.query<EndpointRow>("SELECT * FROM endpoints WHERE id = $1 AND app_id = $2", [id, appId]);
  return row ? toEndpoint(row) : null;
}

export async function listEndpoints(db: PgDb, appId: ApplicationId, page: PageRequest): Promise<Page<Endpoint>> {
  const rows = await db.query<EndpointRow>("SELECT * FROM endpoints WHERE app_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3", [
    appId,
    cursorOf(page),
    page.limit + 1,
  ]);
  return toPage(rows, page.limit, toEndpoint);
}

export async function updateEndpoint(db: PgDb, appId: ApplicationId, id: EndpointId, patch: EndpointPatch, now: number): Promise<Endpoint | null> {
  const columns = patchColumns(patch);
  if (columns.length === 0) return getEndpoint(db, appId, id);
  const set = columns.map(([column], i) => `${column} = $${i + 1}`).join(", ");
  const n = columns.length;
  const update = `UPDATE endpoints SET ${set}, updated_at = $${n + 1} WHERE app_id = $${n + 2} AND id = $${n + 3} RETURNING *`;
  const values = [...columns.map(([, value]) => value), now, appId, id];
  const ordering = patch.ordering;
  if (ordering === undefined) {
    const [row] = await db.query<EndpointRow>(update, values);
    return row ? toEndpoint(row) : null;
  }
  // A change of ordering re-arranges the endpoint's queue, under the lock every FIFO change takes.
  return db.tx(async (q) => {
    const before = (await lockEndpoints(q, db, [id])).get(id);
    const { rows } = await q.query<EndpointRow>(update, values);
    const row = rows[0];
    if (!row) return null;
    if (before && before.ordering !== ordering) await orderingChanged(q, db, id, ordering, now);
    return toEndpoint(row);
  });
}

/**
 * Enable: the endpoint's conditional UPDATE and the reset of its deliveries'
 * failure state in one statement (the second runs only if the first changed a
 * row). Disable: one conditional UPDATE. No row back: nothing to change.
 */
const ENABLE = `WITH e AS (
    UPDATE endpoints SET status = 'active', disabled_reason = NULL, updated_at = $1, enabled_at = $1
    WHERE app_id = $2 AND id = $3 AND status = 'disabled' RETURNING *),
  reset AS (
    UPDATE deliveries SET schedule_index = 0, cycle_started_at = NULL, updated_at = $1
    WHERE endpoint_id IN (SELECT id FROM e) AND ${RESET_FAILURES_WHERE})
  SELECT * FROM e`;
// Disabling a FIFO endpoint skips its queue in order, starting now: a head
// that waits for a retry is due at once (to be skipped), not at its retry time.
const DISABLE = `WITH e AS (
    UPDATE endpoints SET status = 'disabled', disabled_reason = 'manual', updated_at = $1
    WHERE app_id = $2 AND id = $3 AND status = 'active' RETURNING *),
  head AS (
    UPDATE deliveries SET next_attempt_at = $1
    WHERE endpoint_id IN (SELECT id FROM e WHERE ordering = 'fifo') AND status = 'pending' AND seq IS NOT NULL
      AND next_attempt_at > $1 AND lease_owner IS NULL
    RETURNING 1)
  SELECT e.*, CASE WHEN EXISTS (SELECT 1 FROM head) THEN pg_notify('${DUE_CHANNEL}', current_schema()) END AS notified FROM e`;

export async function setEndpointEnabled(
  db: PgDb,
  appId: ApplicationId,
  id: EndpointId,
  enabled: boolean,
  now: number,
): Promise<EndpointStatusChange | null> {
  const [row] = await db.query<EndpointRow & { notified?: unknown }>(enabled ? ENABLE : DISABLE, [now, appId, id]);
  if (row) {
    const { notified: _, ...endpoint } = row;
    return { endpoint: toEndpoint(endpoint), changed: true };
  }
  const current = await getEndpoint(db, appId, id);
  return current ? { endpoint: current, changed: false } : null;
}

/**
 * Deleting an endpoint (or its application) deletes its deliveries with it
 * (the foreign key's cascade). A completion batch locks its deliveries, then
 * its endpoints (their last success): a delete that locked the endpoint first
 * and then met a delivery that a completion held would deadlock with it, and
 * PostgreSQL would fail one of the two. So a delete locks the pending
 * deliveries, the only ones a completion updates, before the endpoint: it
 * waits for the completions in flight instead.
 */
export const LOCK_PENDING_OF_ENDPOINT = "SELECT 1 FROM deliveries WHERE endpoint_id = $1 AND status = 'pending' FOR UPDATE";
export const LOCK_PENDING_OF_APPLICATION = "SELECT 1 FROM deliveries WHERE app_id = $1 AND status = 'pending' FOR UPDATE";

export async function deleteEndpoint(db: PgDb, appId: ApplicationId, id: EndpointId): Promise<boolean> {
  return db.tx(async (c) => {
    await c.query(LOCK_PENDING_OF_ENDPOINT, [id]);
    const { rowCount } = await c.query("DELETE FROM endpoints WHERE id = $1 AND app_id = $2", [id, appId]);
    if (!rowCount) return false;
    await c.query("DELETE FROM attempts WHERE endpoint_id = $1", [id]);
    return true;
  });
}

export async function rotateEndpointSecret(
  db: PgDb,
  appId: ApplicationId,
  id: EndpointId,
  secret: string,
  previousExpiresAt: number,
  now: number,
): Promise<Endpoint | null> {
  // One statement: the secret moved into `previous` is the one stored at this instant.
  const [row] = await db.query<EndpointRow>(
    `UPDATE endpoints SET previous_secret = secret, secret = $1, previous_secret_expires_at = $2, updated_at = $3
     WHERE id = $4 AND app_id = $5 RETURNING *`,
    [secret, previousExpiresAt, now, id, appId],
  );
  return row ? toEndpoint(row) : null;
}
