/**
 * Retry policy as data: a schedule of delays (the delay before each attempt,
 * so its length is the number of attempts), jitter on every delay after the
 * first, and a clamp for `Retry-After`.
 */
export interface RetryPolicy {
  /** Delay before each attempt, in ms. Default: the seed's table `0s,1m,5m,30m,1h`. */
  schedule: readonly number[];
  /** Fraction of jitter applied to every delay after the first. Default: 0.1 (±10 %). */
  jitter: number;
}

export const DEFAULT_SCHEDULE: readonly number[] = [0, 60_000, 300_000, 1_800_000, 3_600_000];

/**
 * The delay before attempt number `index` (0-based within the schedule) with
 * jitter applied, or `undefined` when the schedule is exhausted.
 */
export function delayBefore(policy: RetryPolicy, index: number, random = Math.random): number | undefined {
  const base = policy.schedule[index];
  if (base === undefined) return undefined;
  if (index === 0 || base === 0) return base;
  const factor = 1 + policy.jitter * (2 * random() - 1);
  return Math.round(base * factor);
}

/**
 * `Retry-After` (on 429/503) is honoured but clamped to [next delay, 2 × next delay],
 * so a receiver can slow Herald down but neither speed it up nor park a message forever.
 */
export function applyRetryAfter(nextDelay: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs)) return nextDelay;
  return Math.min(Math.max(retryAfterMs, nextDelay), 2 * nextDelay);
}

/** Parses a `Retry-After` header (delta-seconds or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
