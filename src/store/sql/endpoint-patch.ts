import { jsonOrNull } from "./rows.js";
import type { EndpointPatch } from "../store.js";

/**
 * The columns an endpoint patch writes, with their values encoded as both
 * stores keep them (JSON as text), in a fixed order so that equal sets of
 * fields make equal statement texts (and reuse one prepared statement). Only
 * the fields present are listed: an UPDATE built from this never writes back a
 * column it did not mean to change.
 */
export function patchColumns(patch: EndpointPatch): [column: string, value: unknown][] {
  const columns: [string, unknown][] = [];
  if (patch.url !== undefined) columns.push(["url", patch.url]);
  if (patch.description !== undefined) columns.push(["description", patch.description]);
  if (patch.events !== undefined) columns.push(["events", jsonOrNull(patch.events)]);
  if (patch.channels !== undefined) columns.push(["channels", jsonOrNull(patch.channels)]);
  if (patch.filter !== undefined) columns.push(["filter", jsonOrNull(patch.filter)]);
  if (patch.ordering !== undefined) columns.push(["ordering", patch.ordering]);
  if (patch.transformation !== undefined) columns.push(["transformation", jsonOrNull(patch.transformation)]);
  if (patch.headers !== undefined) columns.push(["headers", JSON.stringify(patch.headers)]);
  if (patch.authentication !== undefined) columns.push(["authentication", jsonOrNull(patch.authentication)]);
  if (patch.timeoutMs !== undefined) columns.push(["timeout_ms", patch.timeoutMs]);
  if (patch.rateLimit !== undefined) columns.push(["rate_limit", patch.rateLimit]);
  if (patch.metadata !== undefined) columns.push(["metadata", JSON.stringify(patch.metadata)]);
  return columns;
}

/**
 * Re-enabling resets the failure state: queued deliveries of the endpoint that
 * wait for a retry (not held by a worker) start the retry schedule again, as
 * recovered ones do, so the failure rule counts from the re-enable. Their
 * attempt numbers keep counting. Shared by both stores (`?`-free: the caller
 * binds the endpoint id and the time).
 */
export const RESET_FAILURES_WHERE =
  "status = 'pending' AND lease_owner IS NULL AND (schedule_index > 0 OR cycle_started_at IS NOT NULL)";
