import type { ApplicationId, EndpointId } from "../../core/ids.js";
import type { Endpoint } from "../model.js";
import { definedOnly } from "../sqlite/catalog.js";
import { cursorOf, toPage } from "../sqlite/paging.js";
import { type EndpointRow, jsonOrNull, toEndpoint } from "../sqlite/rows.js";
import type { EndpointPatch, NewEndpoint, Page, PageRequest } from "../store.js";
import type { PgDb } from "./db.js";

export async function createEndpoint(db: PgDb, ep: NewEndpoint): Promise<Endpoint> {
  const endpoint: Endpoint = { ...ep, previousSecret: null, previousSecretExpiresAt: null, lastSuccessAt: null, updatedAt: ep.createdAt };
  await db.query(
    `INSERT INTO endpoints (id, app_id, url, description, events, channels, status, disabled_reason, secret,
       headers, authentication, timeout_ms, rate_limit, metadata, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      endpoint.id, endpoint.appId, endpoint.url, endpoint.description, jsonOrNull(endpoint.events), jsonOrNull(endpoint.channels),
      endpoint.status, endpoint.disabledReason, endpoint.secret, JSON.stringify(endpoint.headers), jsonOrNull(endpoint.authentication),
      endpoint.timeoutMs, endpoint.rateLimit, JSON.stringify(endpoint.metadata), endpoint.createdAt, endpoint.updatedAt,
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
  const current = await getEndpoint(db, appId, id);
  if (!current) return null;
  const next: Endpoint = { ...current, ...definedOnly(patch), updatedAt: now };
  if (next.status === "active") next.disabledReason = null;
  await db.query(
    `UPDATE endpoints SET url = $1, description = $2, events = $3, channels = $4, status = $5, disabled_reason = $6,
       headers = $7, authentication = $8, timeout_ms = $9, rate_limit = $10, metadata = $11, updated_at = $12
     WHERE id = $13`,
    [
      next.url, next.description, jsonOrNull(next.events), jsonOrNull(next.channels), next.status, next.disabledReason,
      JSON.stringify(next.headers), jsonOrNull(next.authentication), next.timeoutMs, next.rateLimit, JSON.stringify(next.metadata),
      now, id,
    ],
  );
  return next;
}

export async function deleteEndpoint(db: PgDb, appId: ApplicationId, id: EndpointId): Promise<boolean> {
  return db.tx(async (c) => {
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
