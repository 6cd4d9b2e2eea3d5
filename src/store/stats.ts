import type { DeliveryStatus } from "./model.js";
import type { EndpointStats } from "./store.js";

/** Attempts looked at for latency figures: the most recent ones in the window. */
export const STATS_SAMPLE = 50_000;

/** The rows both backends read for an endpoint's stats. */
export interface StatsAttemptRow {
  created_at: number;
  duration_ms: number;
  success: number;
}

/** An endpoint's stats from its recent attempts and its delivery counts by status. */
export function endpointStatsFrom(
  attempts: readonly StatsAttemptRow[],
  counts: readonly { status: DeliveryStatus; n: number }[],
  since: number,
  now: number,
): EndpointStats {
  const deliveries: Record<DeliveryStatus, number> = { pending: 0, succeeded: 0, failed: 0, skipped: 0 };
  for (const r of counts) deliveries[r.status] = Number(r.n);
  return {
    ...summarizeAttempts(
      attempts.map((a) => ({ createdAt: a.created_at, durationMs: a.duration_ms, success: a.success === 1 })),
      since,
      now,
    ),
    deliveries,
  };
}

/** Percentile by nearest rank over sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const BUCKETS = 24;

/**
 * Counts, latency percentiles and a 24-bucket time series over a window of
 * attempts. Shared by every store so the figures mean the same everywhere.
 */
export function summarizeAttempts(
  attempts: readonly { createdAt: number; durationMs: number; success: boolean }[],
  since: number,
  now: number,
): Omit<EndpointStats, "deliveries"> {
  const width = Math.max(1, Math.ceil((now - since) / BUCKETS));
  const buckets = Array.from({ length: BUCKETS }, (_, i) => ({ t: since + i * width, ok: 0, bad: 0, durations: [] as number[] }));
  let succeeded = 0;
  const durations: number[] = [];
  for (const a of attempts) {
    if (a.success) succeeded++;
    durations.push(a.durationMs);
    const b = buckets[Math.min(BUCKETS - 1, Math.max(0, Math.floor((a.createdAt - since) / width)))]!;
    if (a.success) b.ok++;
    else b.bad++;
    b.durations.push(a.durationMs);
  }
  durations.sort((x, y) => x - y);
  return {
    since,
    attempts: attempts.length,
    succeeded,
    failed: attempts.length - succeeded,
    latency: { p50: percentile(durations, 50), p90: percentile(durations, 90), p99: percentile(durations, 99) },
    series: buckets.map((b) => ({
      t: b.t,
      succeeded: b.ok,
      failed: b.bad,
      p50: percentile(b.durations.sort((x, y) => x - y), 50),
    })),
  };
}
