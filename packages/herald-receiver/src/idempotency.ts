/**
 * Where a receiver remembers which webhook ids it has handled. Herald delivers
 * at least once: a retry after a timeout carries the same `webhook-id`, so
 * receivers dedup on it. Back it with anything that has an atomic
 * insert-if-absent: Redis `SET key 1 NX PX ttl`, SQL `INSERT … ON CONFLICT DO
 * NOTHING`, or the in-memory {@link MemoryIdempotencyStore} for one process.
 *
 * @example
 * const redisStore: IdempotencyStore = {
 *   claim: async (id, ttlMs) => (await redis.set(`webhook:${id}`, "1", { NX: true, PX: ttlMs })) === "OK",
 *   release: async (id) => void (await redis.del(`webhook:${id}`)),
 * };
 */
export interface IdempotencyStore {
  /**
   * Atomically records `id` for `ttlMs` milliseconds. True when this call
   * recorded it; false when it was already recorded and has not expired.
   */
  claim(id: string, ttlMs: number): boolean | Promise<boolean>;
  /** Forgets `id`, so that a redelivery of it is handled again. */
  release(id: string): void | Promise<void>;
}

export interface MemoryIdempotencyStoreOptions {
  /**
   * Most ids kept at once; past it the oldest is forgotten (a duplicate of it
   * would then be handled again). Default: 100000.
   */
  maxEntries?: number;
  /** The clock, in milliseconds. Default: `Date.now`. */
  now?: () => number;
}

/**
 * An {@link IdempotencyStore} in this process's memory, with expiry and a bound
 * on its size. It forgets everything on restart and is not shared between
 * processes: use a shared store when several receivers sit behind a balancer.
 *
 * @example
 * const store = new MemoryIdempotencyStore({ maxEntries: 10_000 });
 * await store.claim("msg_1", 60_000); // true
 * await store.claim("msg_1", 60_000); // false
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  // Insertion order is expiry order when every claim uses the same TTL,
  // so the oldest entries sit at the front of the Map.
  readonly #expiry = new Map<string, number>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(opts: MemoryIdempotencyStoreOptions = {}) {
    this.#maxEntries = opts.maxEntries ?? 100_000;
    this.#now = opts.now ?? Date.now;
    if (!Number.isInteger(this.#maxEntries) || this.#maxEntries < 1) {
      throw new TypeError("maxEntries must be a whole number ≥ 1");
    }
  }

  /** How many ids are held (expired ones included until they are swept). */
  get size(): number {
    return this.#expiry.size;
  }

  claim(id: string, ttlMs: number): boolean {
    const now = this.#now();
    const expiresAt = this.#expiry.get(id);
    if (expiresAt !== undefined && expiresAt > now) return false;
    this.#expiry.delete(id);
    this.#makeRoom(now);
    this.#expiry.set(id, now + ttlMs);
    return true;
  }

  release(id: string): void {
    this.#expiry.delete(id);
  }

  #makeRoom(now: number): void {
    for (const [id, expiresAt] of this.#expiry) {
      if (this.#expiry.size < this.#maxEntries && expiresAt > now) return;
      // Expired, or the store is full: the oldest entry goes first.
      this.#expiry.delete(id);
    }
  }
}

export interface DeduplicatorOptions {
  /** Where handled ids are kept. Default: a new {@link MemoryIdempotencyStore}. */
  store?: IdempotencyStore;
  /**
   * How long an id is remembered. It should outlast Herald's whole retry
   * schedule (about 1.5 h by default) plus any manual resend window.
   * Default: 24 h.
   */
  ttlMs?: number;
}

export type DedupOutcome<R> = { duplicate: false; result: R } | { duplicate: true };

export interface Deduplicator {
  /**
   * Runs `work` unless `id` was already handled (or is being handled right
   * now). When `work` throws, the id is released so the sender's retry is
   * handled again, and the error is rethrown.
   */
  once<R>(id: string, work: () => R | Promise<R>): Promise<DedupOutcome<R>>;
}

/**
 * Handles each webhook id once. Answer 2xx for a duplicate too: the sender
 * only needs to know the message arrived.
 *
 * @example
 * const dedup = createDeduplicator();
 * app.post("/webhooks", webhookMiddleware(secret), async (req, res) => {
 *   const hook = verifiedWebhook(req);
 *   await dedup.once(hook.id!, () => queue.add(hook.payload));
 *   res.sendStatus(204);
 * });
 */
export function createDeduplicator(opts: DeduplicatorOptions = {}): Deduplicator {
  const store = opts.store ?? new MemoryIdempotencyStore();
  const ttlMs = opts.ttlMs ?? 24 * 60 * 60 * 1000;
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new TypeError("ttlMs must be a positive number of milliseconds");
  return {
    async once<R>(id: string, work: () => R | Promise<R>): Promise<DedupOutcome<R>> {
      if (typeof id !== "string" || id === "") throw new TypeError("a webhook id is needed to deduplicate");
      if (!(await store.claim(id, ttlMs))) return { duplicate: true };
      try {
        return { duplicate: false, result: await work() };
      } catch (err) {
        await store.release(id);
        throw err;
      }
    },
  };
}
