import type { ApplicationId, EndpointId } from "../../core/ids.js";
import type { Endpoint } from "../model.js";
import { patchColumns, RESET_FAILURES_WHERE } from "../sql/endpoint-patch.js";
import type { EndpointPatch, EndpointStatusChange, NewEndpoint, Page, PageRequest } from "../store.js";
import type { Db } from "./db.js";
import { orderingChanged } from "./fifo.js";
import { cursorOf, toPage } from "../sql/paging.js";
import { type EndpointRow, jsonOrNull, toEndpoint } from "../sql/rows.js";

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
       headers, authentication, timeout_ms, rate_limit, metadata, created_at, updated_at, filter, ordering, transformation)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    endpoint.id, endpoint.appId, endpoint.url, endpoint.description, jsonOrNull(endpoint.events), jsonOrNull(endpoint.channels),
    endpoint.status, endpoint.disabledReason, endpoint.secret, JSON.stringify(endpoint.headers), jsonOrNull(endpoint.authentication),
    endpoint.timeoutMs, endpoint.rateLimit, JSON.stringify(endpoint.metadata), endpoint.createdAt, endpoint.updatedAt,
    jsonOrNull(endpoint.filter), endpoint.ordering, jsonOrNull(endpoint.transformation),
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
  const columns = patchColumns(patch);
  if (columns.length === 0) return getEndpoint(db, appId, id);
  const set = columns.map(([column]) => `${column} = ?`).join(", ");
  return db.tx(() => {
    const before = patch.ordering === undefined ? undefined : db.get<{ ordering: string }>("SELECT ordering FROM endpoints WHERE id = ?", id);
    const row = db.get<EndpointRow>(
      `UPDATE endpoints SET ${set}, updated_at = ? WHERE app_id = ? AND id = ? RETURNING *`,
      ...columns.map(([, value]) => value), now, appId, id,
    );
    if (!row) return null;
    if (patch.ordering !== undefined && before?.ordering !== patch.ordering) orderingChanged(db, id, patch.ordering, now);
    return toEndpoint(row);
  });
}

const ENABLE = `UPDATE endpoints SET status = 'active', disabled_reason = NULL, updated_at = @now, enabled_at = @now
  WHERE app_id = @appId AND id = @id AND status = 'disabled' RETURNING *`;
const DISABLE = `UPDATE endpoints SET status = 'disabled', disabled_reason = 'manual', updated_at = ?
  WHERE app_id = ? AND id = ? AND status = 'active' RETURNING *`;
const RESET_FAILURES = `UPDATE deliveries SET schedule_index = 0, cycle_started_at = NULL, updated_at = ?
  WHERE endpoint_id = ? AND ${RESET_FAILURES_WHERE}`;

// Disabling a FIFO endpoint skips its queue in order, starting now: a head
// that waits for a retry is due at once (to be skipped), not at its retry time.
const FIFO_HEAD_NOW = `UPDATE deliveries SET next_attempt_at = ?
  WHERE endpoint_id = ? AND status = 'pending' AND seq IS NOT NULL AND next_attempt_at > ? AND lease_owner IS NULL`;

/** The conditional UPDATE carries the precondition; no row back means there was nothing to change. */
export function setEndpointEnabled(db: Db, appId: ApplicationId, id: EndpointId, enabled: boolean, now: number): EndpointStatusChange | null {
  return db.tx(() => {
    const row = enabled ? db.get<EndpointRow>(ENABLE, { now, appId, id }) : db.get<EndpointRow>(DISABLE, now, appId, id);
    if (row) {
      if (enabled) db.run(RESET_FAILURES, now, id);
      else if (row.ordering === "fifo") db.run(FIFO_HEAD_NOW, now, id, now);
      return { endpoint: toEndpoint(row), changed: true };
    }
    const current = getEndpoint(db, appId, id);
    return current ? { endpoint: current, changed: false } : null;
  });
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
  // One statement: the secret moved into `previous` is the one stored at this instant.
  const row = db.get<EndpointRow>(
    `UPDATE endpoints SET previous_secret = secret, secret = ?, previous_secret_expires_at = ?, updated_at = ?
     WHERE app_id = ? AND id = ? RETURNING *`,
    secret, previousExpiresAt, now, appId, id,
  );
  return row ? toEndpoint(row) : null;
}
