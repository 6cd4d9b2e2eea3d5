import { idFloor } from "../retention.js";
import { TRIAGE_COLUMNS, type TriageFiguresRow, type TriageRow, toTriagePage } from "../sql/triage-rows.js";
import type { Page, PageRequest, TriageEntry, TriageFilter } from "../store.js";
import type { Db } from "./db.js";
import { cursorOf } from "../sql/paging.js";

/**
 * The operator's triage list: every application's endpoints that are disabled
 * or whose newest attempt failed. Two statements per page, whatever the number
 * of endpoints: the page (each endpoint's newest attempt is one seek on
 * `attempts_by_endpoint`), then the figures of the endpoints on it.
 */

const PAGE = `SELECT ${TRIAGE_COLUMNS}
  FROM endpoints e
  JOIN applications a ON a.id = e.app_id
  LEFT JOIN attempts l ON l.id = (SELECT x.id FROM attempts x WHERE x.endpoint_id = e.id ORDER BY x.id DESC LIMIT 1)
  WHERE e.id < @cursor AND (e.status = 'disabled' OR l.success = 0)
  ORDER BY e.id DESC LIMIT @limit`;

/**
 * Per listed endpoint: its backlog, its attempts in the window (a key range
 * from the window's id floor), when it was last disabled, and the first
 * attempt after its last success (a backward scan over its failing streak,
 * then one seek).
 */
const FIGURES = `SELECT i.value AS id,
    (SELECT COUNT(*) FROM deliveries d WHERE d.endpoint_id = i.value AND d.status = 'pending') AS pending,
    (SELECT COUNT(*) FROM deliveries d WHERE d.endpoint_id = i.value AND d.status = 'skipped') AS skipped,
    (SELECT COUNT(*) FROM attempts w WHERE w.endpoint_id = i.value AND w.id >= @floor AND w.created_at >= @since) AS attempts,
    (SELECT COUNT(*) FROM attempts w WHERE w.endpoint_id = i.value AND w.id >= @floor AND w.created_at >= @since AND w.success = 1) AS succeeded,
    (SELECT MAX(o.created_at) FROM operational_events o WHERE o.endpoint_id = i.value AND o.type = 'endpoint.disabled') AS disabled_at,
    (SELECT f.created_at FROM attempts f
      WHERE f.endpoint_id = i.value
        AND f.id > COALESCE((SELECT s.id FROM attempts s WHERE s.endpoint_id = i.value AND s.success = 1 ORDER BY s.id DESC LIMIT 1), '')
      ORDER BY f.id LIMIT 1) AS failing_since
  FROM json_each(@ids) i`;

export function listTriage(db: Db, filter: TriageFilter, page: PageRequest): Page<TriageEntry> {
  const rows = db.all<TriageRow>(PAGE, { cursor: cursorOf(page), limit: page.limit + 1 });
  const shown = rows.slice(0, page.limit);
  const figures = shown.length
    ? db.all<TriageFiguresRow>(FIGURES, { ids: JSON.stringify(shown.map((r) => r.id)), floor: idFloor("atmpt", filter.since), since: filter.since })
    : [];
  return toTriagePage(rows, figures, page.limit);
}
