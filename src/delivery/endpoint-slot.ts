import type { EndpointId } from "../core/ids.js";
import type { DeliveryJob } from "../store/store.js";

/**
 * One endpoint's share of a dispatcher: attempts in flight, work waiting for a
 * free slot, and (when the endpoint has a `rateLimit`) a token bucket that
 * allows `rateLimit` attempts per second with bursts of up to one second's worth.
 */
export class EndpointSlot {
  inflight = 0;
  readonly waiting: DeliveryJob[] = [];
  /** Timer that starts waiting work once the bucket has a token again. */
  timer: NodeJS.Timeout | null = null;
  /** Requests per second; null = unlimited. Taken from the newest job seen. */
  rateLimit: number | null = null;
  private tokens = 0;
  private refilledAt = 0;

  constructor(readonly id: EndpointId) {}

  /** Whether one more attempt may start now; takes a token when rate-limited. */
  tryStart(cap: number, now: number): boolean {
    if (this.inflight >= cap) return false;
    const rate = this.rateLimit;
    if (rate === null) return true;
    if (this.refilledAt === 0) this.tokens = rate;
    else this.tokens = Math.min(rate, this.tokens + ((now - this.refilledAt) / 1000) * rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the bucket holds a whole token. */
  msUntilToken(): number {
    if (this.rateLimit === null) return 0;
    return Math.max(1, Math.ceil(((1 - this.tokens) / this.rateLimit) * 1000));
  }

  /**
   * How much work may wait here. Rate-limited endpoints wait at most ~20 s of
   * their own rate, so waiting work never outlives its lease.
   */
  waitingCap(base: number): number {
    return this.rateLimit === null ? base : Math.max(1, Math.min(base, Math.floor(this.rateLimit * 20)));
  }

  get idle(): boolean {
    return this.inflight === 0 && this.waiting.length === 0 && this.timer === null;
  }

  /**
   * Whether forgetting this slot changes nothing: no work, and (rate-limited)
   * a bucket that has refilled, since a new slot starts with a full one.
   * Forgetting a half-empty bucket would let an endpoint whose requests are
   * short and spaced out go past its rate.
   */
  forgettable(now: number): boolean {
    if (!this.idle) return false;
    const rate = this.rateLimit;
    if (rate === null || this.refilledAt === 0) return true;
    return this.tokens + ((now - this.refilledAt) / 1000) * rate >= rate;
  }
}
