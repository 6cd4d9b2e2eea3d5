import type { FastifyReply, FastifyRequest } from "fastify";
import { HeraldError } from "../core/errors.js";
import type { Principal } from "./auth.js";

/** A key's bucket holds this many seconds' worth of requests: short bursts pass, a sustained excess does not. */
export const BURST_SECONDS = 2;
/** Buckets kept in memory at most; idle (refilled) ones are dropped first. */
const MAX_BUCKETS = 10_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets, one per key, refilled continuously at `ratePerSecond` up to
 * `burst`. In-process: with several API processes each one limits on its own
 * (the effective limit is the per-process limit times the processes).
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly maxBuckets = MAX_BUCKETS,
  ) {}

  /** Takes one token: the tokens left, or how long until one is back. */
  take(key: string, now: number): { ok: true; remaining: number } | { ok: false; retryAfterMs: number } {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxBuckets) this.evict(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(key, bucket);
    } else {
      this.refill(bucket, now);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true, remaining: Math.floor(bucket.tokens) };
    }
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) / this.ratePerSecond) * 1000) };
  }

  /**
   * Takes `n` more tokens from a request already let through (a bulk publish
   * costs one per message): the bucket may go below zero, and the key's next
   * requests wait until it has refilled.
   */
  charge(key: string, now: number, n: number): void {
    const bucket = this.buckets.get(key);
    if (!bucket) return;
    this.refill(bucket, now);
    bucket.tokens -= n;
  }

  /** Adds what the bucket earned since it was last touched (up to `burst`), as of `now`. */
  private refill(bucket: Bucket, now: number): void {
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.ratePerSecond);
    bucket.at = now;
  }

  get size(): number {
    return this.buckets.size;
  }

  private evict(now: number): void {
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
    // Everyone is busy: drop the oldest buckets (they start full again, a small leniency).
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxBuckets) break;
      this.buckets.delete(key);
    }
  }
}

/**
 * Whose bucket a request draws from: the verified principal, not the text of
 * its header (spellings of one credential share a bucket): each admin key has
 * its own; an application's portal tokens share the application's.
 */
export const bucketKey = (principal: Principal): string => (principal.kind === "admin" ? `admin:${principal.keyId}` : `app:${principal.appId}`);

/**
 * The `/api/v1` onRequest hook that runs after authentication: each principal
 * (`bucketKey`) gets `ratePerSecond` requests per second with a burst of
 * `BURST_SECONDS` times that. Over it: `429 rate_limited` with `Retry-After`
 * (seconds). Routes marked `unmetered` (publishing) are not counted for admin
 * keys (the producer's data plane); a portal token's publishes are. Null when
 * the limit is 0 (off).
 */
export function rateLimiter(ratePerSecond: number) {
  if (ratePerSecond <= 0) return null;
  const buckets = new TokenBuckets(ratePerSecond, Math.max(1, Math.round(ratePerSecond * BURST_SECONDS)));
  const limit = String(buckets.burst);
  return Object.assign(hook(buckets, limit, ratePerSecond), {
    /**
     * The preHandler hook for routes whose request counts as several (`config.cost`
     * of the validated body: a bulk publish counts each message): the rest of the
     * cost, after the one the request took. Admin keys are not counted on `unmetered` routes.
     */
    charge: async (req: FastifyRequest): Promise<void> => {
      const cost = req.routeOptions.config.cost?.(req.body) ?? 1;
      if (cost <= 1 || (req.routeOptions.config.unmetered && req.principal.kind === "admin")) return;
      buckets.charge(bucketKey(req.principal), Date.now(), cost - 1);
    },
  });
}

function hook(buckets: TokenBuckets, limit: string, ratePerSecond: number) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.routeOptions.config.unmetered && req.principal.kind === "admin") return;
    const taken = buckets.take(bucketKey(req.principal), Date.now());
    reply.header("ratelimit-limit", limit);
    if (taken.ok) {
      reply.header("ratelimit-remaining", String(taken.remaining));
      return;
    }
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    reply.header("ratelimit-remaining", "0").header("retry-after", String(seconds));
    throw new HeraldError("rate_limited", `too many requests with this credential; retry in ${seconds} s (limit: ${ratePerSecond} per second, HERALD_API_RATE_LIMIT)`);
  };
}
