import type { ApplicationId, AttemptId, EndpointId, MessageId } from "../../core/ids.js";
import type { AttemptErrorKind, DisabledReason, EndpointStatus } from "../model.js";
import { toPage } from "./paging.js";
import type { Page, TriageEntry } from "../store.js";

/**
 * The triage list's rows as both backends return them (PostgreSQL's are
 * parsed into SQLite's shapes: numbers, 1/0 booleans), and their mapping.
 * The page is read first, then its figures in one more statement.
 */

/** The list statement's columns (`e` the endpoint, `a` its application, `l` its newest attempt): a `TriageRow`. */
export const TRIAGE_COLUMNS = `e.id, e.app_id, e.url, e.description, e.status, e.disabled_reason, e.last_success_at, e.created_at,
    a.name AS app_name, a.uid AS app_uid,
    l.id AS last_id, l.message_id AS last_message_id, l.created_at AS last_at, l.success AS last_ok,
    l.status_code AS last_status_code, l.error_kind AS last_error_kind, l.error_message AS last_error_message,
    l.attempt_number AS last_attempt_number`;

/** What is listed, in the list's statement: the endpoint, its application and its newest attempt. */
export interface TriageRow {
  id: string;
  app_id: string;
  url: string;
  description: string;
  status: string;
  disabled_reason: string | null;
  last_success_at: number | null;
  created_at: number;
  app_name: string;
  app_uid: string | null;
  last_id: string | null;
  last_message_id: string | null;
  last_at: number | null;
  last_ok: number | null;
  last_status_code: number | null;
  last_error_kind: string | null;
  last_error_message: string | null;
  last_attempt_number: number | null;
}

/** The figures of one listed endpoint, in the second statement. */
export interface TriageFiguresRow {
  id: string;
  pending: number;
  skipped: number;
  attempts: number;
  succeeded: number;
  disabled_at: number | null;
  failing_since: number | null;
}

function toTriageEntry(r: TriageRow, f: TriageFiguresRow | undefined): TriageEntry {
  return {
    endpoint: {
      id: r.id as EndpointId,
      appId: r.app_id as ApplicationId,
      url: r.url,
      description: r.description,
      status: r.status as EndpointStatus,
      disabledReason: r.disabled_reason as DisabledReason | null,
      lastSuccessAt: r.last_success_at,
      createdAt: r.created_at,
    },
    application: { id: r.app_id as ApplicationId, name: r.app_name, uid: r.app_uid },
    lastAttempt:
      r.last_id === null
        ? null
        : {
            id: r.last_id as AttemptId,
            messageId: r.last_message_id as MessageId,
            createdAt: r.last_at ?? 0,
            success: r.last_ok === 1,
            statusCode: r.last_status_code,
            errorKind: r.last_error_kind as AttemptErrorKind | null,
            errorMessage: r.last_error_message,
            attemptNumber: r.last_attempt_number ?? 0,
          },
    failingSince: f?.failing_since ?? null,
    disabledAt: f?.disabled_at ?? null,
    window: { attempts: Number(f?.attempts ?? 0), succeeded: Number(f?.succeeded ?? 0) },
    backlog: { pending: Number(f?.pending ?? 0), skipped: Number(f?.skipped ?? 0) },
  };
}

/** The page of `limit` entries from the list's rows (`limit + 1` read) and the figures of those shown. */
export function toTriagePage(rows: TriageRow[], figures: TriageFiguresRow[], limit: number): Page<TriageEntry> {
  const byId = new Map(figures.map((f) => [f.id, f]));
  return toPage(rows, limit, (r) => toTriageEntry(r, byId.get(r.id)));
}
