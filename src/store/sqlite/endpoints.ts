import type { ApplicationId, EndpointId } from "../../core/ids.js";
import type { Endpoint } from "../model.js";
import type { EndpointPatch, NewEndpoint, Page, PageRequest } from "../store.js";
import { definedOnly } from "./catalog.js";
import type { Db } from "./db.js";
import { cursorOf, toPage } from "./paging.js";
import { type EndpointRow, jsonOrNull, toEndpoint } from "./rows.js";

export function createEndpoint(db: Db, ep: NewEndpoint): Endpoint {
  const endpoint: Endpoint = {
    ...ep,
    previousSecret: null,
    previousSecretExpiresAt: null,
    lastSuccessAt: null,
    updatedAt: ep.createdAt,
  };
  db.run(
    `INSERT INTO endpoints (id, app_id, url, description, events, channels, status, disabled_reason, secret,
       headers, authentication, timeout_ms, rate_limit, metadata, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    endpoint.id, endpoint.appId, endpoint.url, endpoint.description, jsonOrNull(endpoint.events), jsonOrNull(endpoint.channels),
    endpoint.status, endpoint.disabledReason, endpoint.secret, JSON.stringify(endpoint.headers), jsonOrNull(endpoint.authentication),
    endpoint.timeoutMs, endpoint.rateLimit, JSON.stringify(endpoint.metadata), endpoint.createdAt, endpoint.updatedAt,
  );
  return endpoint;
}

export function getEndpoint(db: Db, appId: ApplicationId, id: EndpointId): Endpoint | null {
  const row = db.get<EndpointRow>("SELECT * FROM endpoints WHERE id = ? AND app_id = ?", id, appId);
  return row ? toEndpoint(row) : null;
}

export function listEndpoints(db: Db, appId: ApplicationId, page: PageRequest): Page<Endpoint> {
  const rows = db.all<EndpointRow>(
    "SELECT * FROM endpoints WHERE app_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
    appId, cursorOf(page), page.limit + 1,
  );
  return toPage(rows, page.limit, toEndpoint);
}

export const endpointsOfApp = (db: Db, appId: string): Endpoint[] =>
  db.all<EndpointRow>("SELECT * FROM endpoints WHERE app_id = ?", appId).map(toEndpoint);

export function updateEndpoint(db: Db, appId: ApplicationId, id: EndpointId, patch: EndpointPatch, now: number): Endpoint | null {
  const current = getEndpoint(db, appId, id);
  if (!current) return null;
  const next: Endpoint = { ...current, ...definedOnly(patch), updatedAt: now };
  if (next.status === "active") next.disabledReason = null;
  db.run(
    `UPDATE endpoints SET url = ?, description = ?, events = ?, channels = ?, status = ?, disabled_reason = ?,
       headers = ?, authentication = ?, timeout_ms = ?, rate_limit = ?, metadata = ?, updated_at = ?
     WHERE id = ?`,
    next.url, next.description, jsonOrNull(next.events), jsonOrNull(next.channels), next.status, next.disabledReason,
    JSON.stringify(next.headers), jsonOrNull(next.authentication), next.timeoutMs, next.rateLimit, JSON.stringify(next.metadata),
    now, id,
  );
  return next;
}

export function deleteEndpoint(db: Db, appId: ApplicationId, id: EndpointId): boolean {
  return db.tx(() => {
    const gone = db.run("DELETE FROM endpoints WHERE id = ? AND app_id = ?", id, appId).changes > 0;
    if (gone) db.run("DELETE FROM attempts WHERE endpoint_id = ?", id);
    return gone;
  });
}

export function rotateEndpointSecret(
  db: Db,
  appId: ApplicationId,
  id: EndpointId,
  secret: string,
  previousExpiresAt: number,
  now: number,
): Endpoint | null {
  const current = getEndpoint(db, appId, id);
  if (!current) return null;
  db.run(
    "UPDATE endpoints SET secret = ?, previous_secret = ?, previous_secret_expires_at = ?, updated_at = ? WHERE id = ?",
    secret, current.secret, previousExpiresAt, now, id,
  );
  return { ...current, secret, previousSecret: current.secret, previousSecretExpiresAt: previousExpiresAt, updatedAt: now };
}
