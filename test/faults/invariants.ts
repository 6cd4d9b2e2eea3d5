/**
 * The invariants of the fault-injection suite, checked once a scenario's load
 * stopped and everything drained, over three records that do not depend on
 * each other: the publishes the API acknowledged, the store's rows (with the
 * audit of `installAudit`) and what the receivers saw.
 *
 * 1. lost: every acknowledged (202) message has a `succeeded` delivery to every
 *    endpoint that was never removed, and that endpoint's receiver processed it
 *    (answered 200 at least once). On an endpoint disabled during the load, its
 *    deliveries end `succeeded` or `skipped`.
 * 2. unfinished: nothing is left `pending` or `failed`.
 * 3. send after success: no attempt STARTED after the success of its delivery
 *    was recorded (the commit that made it `succeeded`, as the audit trigger
 *    timed it). A request already in flight then is allowed; what is provable:
 *    - from the attempt log: no attempt row whose `created_at` (its start) is
 *      later than the recorded success;
 *    - from the receiver, for attempts whose rows were never written (a fenced
 *      or lost completion): no request whose `webhook-timestamp` (second
 *      precision, so a lower bound of its start) is later than the success.
 *    Arrivals after the success are counted and reported, not failed: an
 *    attempt that started before it may arrive late (a frozen sender).
 * 4. regressed: no delivery went from `succeeded` back to anything else.
 * 5. after removal: no request reached an endpoint (and no attempt to it
 *    started) later than a small tolerance after the API answered its
 *    deletion or disabling.
 * 6. duplicates: a message processed twice by one endpoint's receiver is
 *    counted; it is a violation unless its first processing fell within one of
 *    the scenario's fault windows (a fault that can cause a repeat: a kill, a
 *    freeze, a terminated connection). Resets are failures, not processing.
 */
import { expect } from "vitest";
import { type Hit, type Publish, VERBOSE } from "./harness.js";
import type { Setup } from "./setups.js";

export interface Removal {
  endpoint: string;
  kind: "deleted" | "disabled";
  /** When the API answered the removal (the change was committed by then). */
  at: number;
}

export interface CheckOptions {
  scenario: string;
  setup: Setup;
  publishes: Publish[];
  removals?: Removal[];
  /** Intervals where a fault may cause a duplicate. Default: none (no duplicate allowed). */
  faultWindows?: [number, number][];
  /** Slack after a recorded success: the audit times the transaction just before its commit. Default: 50 ms. */
  toleranceMs?: number;
  /** Slack after a removal was answered, for a request already on its way. Default: 250 ms. */
  removalToleranceMs?: number;
}

export interface Report {
  summary: string;
  /** Non-empty lists only, by invariant; each capped at a few examples. */
  violations: Record<string, string[]>;
  stats: Record<string, number>;
}

interface DeliveryRow {
  id: string;
  message_id: string;
  endpoint_id: string;
  status: string;
}
interface AttemptRow {
  message_id: string;
  endpoint_id: string;
  attempt_number: number;
  created_at: number;
  success: number;
  error_kind: string | null;
}
interface SuccessRow {
  delivery_id: string;
  message_id: string;
  endpoint_id: string;
  at: number;
}
interface RegressionRow extends SuccessRow {
  status: string;
}

const EXAMPLES = 8;

function group<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export async function checkInvariants(o: CheckOptions): Promise<Report> {
  const { setup } = o;
  const tol = o.toleranceMs ?? 50;
  const removalTol = o.removalToleranceMs ?? 250;
  const removals = o.removals ?? [];
  const windows = o.faultWindows ?? [];
  const t = (at: number) => `+${at - setup.startedAt}ms`;

  const deliveries = await setup.db.query<DeliveryRow>("SELECT id, message_id, endpoint_id, status FROM deliveries");
  const attempts = await setup.db.query<AttemptRow>("SELECT message_id, endpoint_id, attempt_number, created_at, success, error_kind FROM attempts");
  const successes = await setup.db.query<SuccessRow>("SELECT delivery_id, message_id, endpoint_id, at FROM faults_succeeded");
  const regressions = await setup.db.query<RegressionRow>("SELECT delivery_id, message_id, endpoint_id, status, at FROM faults_regressed");
  const hits = [...setup.receivers.hits];

  const nameOf = new Map([...setup.endpoints].map(([name, id]) => [id, name]));
  const removedNames = new Set(removals.map((r) => r.endpoint));
  const kept = [...setup.endpoints].filter(([name]) => !removedNames.has(name));
  const deliveryOf = new Map(deliveries.map((d) => [`${d.message_id} ${nameOf.get(d.endpoint_id)}`, d]));
  const hitsOf = group(hits, (h) => `${h.messageId} ${h.endpoint}`);
  const attemptsOf = group(attempts, (a) => `${a.message_id} ${nameOf.get(a.endpoint_id)}`);
  const oks = (key: string) => (hitsOf.get(key) ?? []).filter((h) => h.answer === "ok");

  const v: Record<string, string[]> = {
    lost: [],
    notReceived: [],
    unfinished: [],
    sendAfterSuccess: [],
    regressed: [],
    afterRemoval: [],
    unexpectedDuplicates: [],
    serverErrors: [],
  };
  const acked = o.publishes.filter((p) => p.status === 202 && p.id);

  // 1. Nothing acknowledged is lost.
  for (const p of acked) {
    for (const [name] of kept) {
      const key = `${p.id} ${name}`;
      const d = deliveryOf.get(key);
      if (d?.status !== "succeeded") v.lost!.push(`${key}: delivery ${d ? d.status : "missing"} (acknowledged ${t(p.ackAt!)})`);
      if (oks(key).length === 0) v.notReceived!.push(`${key}: never processed by the receiver (${(hitsOf.get(key) ?? []).length} requests)`);
    }
    for (const r of removals.filter((r) => r.kind === "disabled")) {
      const d = deliveryOf.get(`${p.id} ${r.endpoint}`);
      if (d && d.status !== "succeeded" && d.status !== "skipped") v.lost!.push(`${p.id} ${r.endpoint} (disabled): delivery ${d.status}`);
    }
  }
  // 1b. A refused publish is refused with a meaning (503 store_unavailable while the database is away), never a 500.
  for (const p of o.publishes) {
    if (p.status !== undefined && p.status >= 500 && p.status !== 503) v.serverErrors!.push(`publish answered ${p.status}: ${(p.error ?? "").slice(0, 200)}`);
  }
  // 2. Nothing left behind.
  for (const d of deliveries) {
    if (d.status === "pending" || d.status === "failed") v.unfinished!.push(`${d.message_id} ${nameOf.get(d.endpoint_id) ?? d.endpoint_id}: ${d.status}`);
  }

  // 3. No attempt started after its delivery's success was recorded.
  let lateArrivals = 0;
  for (const s of successes) {
    const key = `${s.message_id} ${nameOf.get(s.endpoint_id) ?? s.endpoint_id}`;
    const after = s.at + tol;
    for (const a of attemptsOf.get(key) ?? []) {
      if (a.created_at > after) {
        const outcome = a.success ? "succeeded" : `failed: ${a.error_kind ?? "status"}`;
        v.sendAfterSuccess!.push(
          `${key}: attempt #${a.attempt_number} (${outcome}) logged as started ${a.created_at - s.at} ms after the success was recorded (${t(s.at)})`,
        );
      }
    }
    for (const h of hitsOf.get(key) ?? []) {
      if (h.at > after) lateArrivals++;
      if (h.startedNoEarlierThan > after) {
        v.sendAfterSuccess!.push(
          `${key}: request #${h.attempt} (webhook-timestamp ${t(h.startedNoEarlierThan)}) started at least ${h.startedNoEarlierThan - s.at} ms after the success was recorded (${t(s.at)}), arrived ${t(h.at)}`,
        );
      }
    }
  }
  // 4. No stale completion undid a success.
  for (const r of regressions) {
    v.regressed!.push(`${r.message_id} ${nameOf.get(r.endpoint_id) ?? r.endpoint_id}: succeeded → ${r.status} at ${t(r.at)}`);
  }
  // 5. Nothing sent to an endpoint after its removal was committed.
  for (const r of removals) {
    const id = setup.endpoints.get(r.endpoint)!;
    const late = hits.filter((h) => h.endpoint === r.endpoint && h.at > r.at + removalTol);
    if (late.length > 0) {
      v.afterRemoval!.push(`${late.length} requests reached ${r.endpoint} after it was ${r.kind} (${t(r.at)}), the last ${t(late.at(-1)!.at)}`);
    }
    const logged = attempts.filter((a) => a.endpoint_id === id && a.created_at > r.at + removalTol);
    if (logged.length > 0) v.afterRemoval!.push(`${logged.length} attempts to ${r.endpoint} logged as started after it was ${r.kind} (${t(r.at)})`);
  }
  // 6. Duplicates only where a fault can cause them.
  let duplicates = 0;
  for (const [key, list] of hitsOf) {
    const processed = list.filter((h) => h.answer === "ok");
    if (processed.length < 2) continue;
    duplicates += processed.length - 1;
    const first = processed[0]!.at;
    if (!windows.some(([from, to]) => first >= from && first <= to)) {
      v.unexpectedDuplicates!.push(`${key}: processed ${processed.length} times (${processed.map((h) => `#${h.attempt} ${t(h.at)}`).join(", ")}), outside any fault window`);
    }
  }

  const stats = {
    published: o.publishes.length,
    acknowledged: acked.length,
    deliveries: deliveries.length,
    attempts: attempts.length,
    requests: hits.length,
    resets: hits.filter((h: Hit) => h.answer === "reset").length,
    duplicates,
    lateArrivals,
  };
  const violations: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(v)) {
    if (list.length > EXAMPLES && !VERBOSE) violations[name] = [...list.slice(0, EXAMPLES), `… and ${list.length - EXAMPLES} more`];
    else if (list.length > 0) violations[name] = list;
  }
  // Refused publishes are not a violation (only a 202 promises anything), but they are reported.
  const refused = o.publishes.filter((p) => p.status !== 202);
  const refusals = group(refused, (p) => (p.status ? String(p.status) : (p.error ?? "error").replace(/\s.*$/, "")));
  const refusedText = [...refusals].map(([why, list]) => `${list.length}× ${why} (e.g. ${(list[0]!.error ?? "").slice(0, 120)})`).join(", ");
  const counts = Object.entries(v).filter(([, l]) => l.length > 0).map(([n, l]) => `${n} ${l.length}`);
  const timeline = setup.timeline.map((e) => `${t(e.at)} ${e.what}`).join("; ");
  const summary =
    `[faults] ${o.scenario}: ${acked.length}/${o.publishes.length} publishes acknowledged${refused.length > 0 ? ` (refused: ${refusedText})` : ""}, ${deliveries.length} deliveries, ` +
    `${attempts.length} attempts logged, ${hits.length} requests received (${stats.resets} reset), ${duplicates} duplicates ` +
    `(${v.unexpectedDuplicates!.length} outside fault windows), ${lateArrivals} arrivals after a recorded success; ` +
    `violations: ${counts.length > 0 ? counts.join(", ") : "none"}. Timeline: ${timeline}`;
  return { summary, violations, stats };
}

/**
 * Prints the summary line and fails, listing every violated invariant, unless
 * there are none. `more` adds a scenario's own checks (non-empty lists fail).
 */
export function expectClean(report: Report, more: Record<string, string[]> = {}): void {
  const violations = { ...report.violations };
  for (const [name, list] of Object.entries(more)) if (list.length > 0) violations[name] = list;
  const extra = Object.entries(more).filter(([, l]) => l.length > 0).map(([n, l]) => `${n} ${l.length}`);
  const summary = extra.length > 0 ? `${report.summary} Also violated: ${extra.join(", ")}.` : report.summary;
  console.log(summary);
  expect(violations, summary).toEqual({});
}
