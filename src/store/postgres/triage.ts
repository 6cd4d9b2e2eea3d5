import { idFloor } from "../retention.js";
import { TRIAGE_COLUMNS, type TriageFiguresRow, type TriageRow, toTriagePage } from "../sql/triage-rows.js";
import { cursorOf } from "../sql/paging.js";
import type { Page, PageRequest, TriageEntry, TriageFilter } from "../store.js";
import type { PgDb } from "./db.js";

/**
 * The operator's triage list (see the SQLite form for what each statement
 * does): the page, with each endpoint's newest attempt from one index seek,
 * then the figures of the endpoints on it. Two statements per page.
 */

const PAGE = `SELECT ${TRIAGE_COLUMNS}
  FROM endpoints e
  JOIN applications a ON a.id = e.app_id
  LEFT JOIN LATERAL (SELECT * FROM attempts x WHERE x.endpoint_id = e.id ORDER BY x.id DESC LIMIT 1) l ON true
  WHERE e.id < $1 AND (e.status = 'disabled' OR l.success = false)
  ORDER BY e.id DESC LIMIT $2`;

const FIGURES = `SELECT i.id,
    (SELECT COUNT(*) FROM deliveries d WHERE d.endpoint_id = i.id AND d.status = 'pending') AS pending,
    (SELECT COUNT(*) FROM deliveries d WHERE d.endpoint_id = i.id AND d.status = 'skipped') AS skipped,
    (SELECT COUNT(*) FROM attempts w WHERE w.endpoint_id = i.id AND w.id >= $2 AND w.created_at >= $3) AS attempts,
    (SELECT COUNT(*) FROM attempts w WHERE w.endpoint_id = i.id AND w.id >= $2 AND w.created_at >= $3 AND w.success) AS succeeded,
    (SELECT MAX(o.created_at) FROM operational_events o WHERE o.endpoint_id = i.id AND o.type = 'endpoint.disabled') AS disabled_at,
    (SELECT f.created_at FROM attempts f
      WHERE f.endpoint_id = i.id
        AND f.id > COALESCE((SELECT s.id FROM attempts s WHERE s.endpoint_id = i.id AND s.success ORDER BY s.id DESC LIMIT 1), '')
      ORDER BY f.id LIMIT 1) AS failing_since
  FROM unnest($1::text[]) AS i(id)`;

export async function listTriage(db: PgDb, filter: TriageFilter, page: PageRequest): Promise<Page<TriageEntry>> {
  const rows = await db.query<TriageRow>(PAGE, [cursorOf(page), page.limit + 1]);
  const shown = rows.slice(0, page.limit);
  const figures = shown.length
    ? await db.query<TriageFiguresRow>(FIGURES, [shown.map((r) => r.id), idFloor("atmpt", filter.since), filter.since])
    : [];
  return toTriagePage(rows, figures, page.limit);
}
