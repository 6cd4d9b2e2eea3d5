import { SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { DeliveryTuning } from "../config/config.js";
import type { DeliveryId, EndpointId } from "../core/ids.js";
import type { DeliveryJob, Store } from "../store/store.js";
import { heraldTracer, markClaimed } from "../observability/tracing.js";

/** Pause after a claim that came back short. */
const MIN_CLAIM_GAP_MS = 5;

/** What the claim loop asks of the dispatcher it feeds. */
export interface ClaimTarget {
  /** How many more jobs the dispatcher may hold now. */
  room(): number;
  /** Endpoints with a full round of work already waiting: claiming more of theirs would only queue it. */
  saturated(): EndpointId[];
  /** The deliveries the dispatcher holds (what a lost claim's clean-up must leave alone). */
  held(): DeliveryId[];
  /** Takes claimed jobs, leased until `until`; `epoch` is `Store.changeEpoch()` read before the claim. */
  offer(jobs: DeliveryJob[], until: number, epoch: number): void;
}

/**
 * Claims due work from the store for one dispatcher: in batches while there
 * is room, then asleep until woken (a publish, a release, a completion that
 * made room, a NOTIFY) or until the next retry is due, at most
 * `pollIntervalMs`. A store error is logged and retried a second later.
 *
 * A claim that failed may still have committed (PostgreSQL: the connection
 * dropped after the UPDATE; a read after it failed): its deliveries are
 * leased to this worker, which never got them. Each claim has a deadline of
 * its own (strictly increasing), so before claiming again the loop gives
 * back exactly what such a claim took (`Store.releaseUnanswered`) instead of
 * leaving it to sit out the lease.
 */
export class ClaimLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  /** Deadline of the last claim: the next one is later, so each claim's deadline names it alone. */
  private lastUntil = 0;
  /** Deadlines of claims that failed: what they may have leased is given back before the next claim. */
  private unanswered: number[] = [];
  /**
   * The last claim took everything due (short, neither cut by room nor by
   * saturated endpoints), and nothing has been announced since: room freed by
   * a completion finds nothing new in the store, so it does not wake the loop.
   */
  private drained = false;
  /** When the current sleep ends (ms; 0 while awake), and the timer of a retry due before it. */
  private sleepsUntil = 0;
  private dueTimer: NodeJS.Timeout | null = null;
  /** The earliest retry announced while awake: the next sleep ends by then. */
  private dueHint = Number.POSITIVE_INFINITY;
  /** Ends the pause after a short claim early (set while it lasts). */
  private endGap: (() => void) | null = null;

  constructor(
    private readonly store: Store,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly tuning: DeliveryTuning,
    private readonly maxHeld: number,
    private readonly target: ClaimTarget,
    private readonly logger: Logger,
    private readonly tracer: Tracer = heraldTracer(),
    /** Pause after a short claim (ms). */
    private readonly shortClaimGapMs = MIN_CLAIM_GAP_MS,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming; resolves when the claim in progress (if any) is done. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.wake();
    this.endGap?.();
    await this.loop;
  }

  /** Look for due work now: something may have become due (a publish, a release, a NOTIFY, an operator's action). */
  wake(): void {
    this.drained = false;
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * A FIFO queue moved on: its next delivery is due now and nothing else will
   * announce it. Claim at once, cutting short the pause after a short claim
   * (that pause keeps completions from turning into a stream of near-empty
   * claims; a FIFO endpoint makes one claim per message anyway).
   */
  promoted(): void {
    this.wake();
    this.endGap?.();
  }

  /**
   * The dispatcher has room again. Claiming helps only if the last claim left
   * due work behind (it was cut by room or skipped saturated endpoints) or
   * something was announced since; otherwise the claim would come back empty.
   */
  roomFreed(): void {
    if (this.drained) return;
    this.woken = true;
    this.wakeUp?.();
  }

  /** A retry was scheduled for `at` (ms): the loop wakes by then even if it sleeps longer. */
  dueAt(at: number): void {
    if (!this.running) return;
    if (this.sleepsUntil === 0) {
      this.dueHint = Math.min(this.dueHint, at);
      return;
    }
    if (at >= this.sleepsUntil) return;
    if (this.dueTimer) clearTimeout(this.dueTimer);
    this.dueTimer = setTimeout(() => {
      this.dueTimer = null;
      this.wake();
    }, Math.max(0, at - Date.now()));
    this.dueTimer.unref();
  }

  private async run(): Promise<void> {
    while (this.running) {
      const room = this.target.room();
      if (room >= Math.min(this.tuning.claimBatch, this.maxHeld / 4)) {
        if (this.unanswered.length > 0 && !(await this.releaseUnanswered())) {
          await this.sleep(1000);
          continue;
        }
        const limit = Math.min(this.tuning.claimBatch, room);
        const now = Date.now();
        const until = Math.max(now + this.leaseMs, this.lastUntil + 1);
        this.lastUntil = until;
        const epoch = this.store.changeEpoch(); // before the claim reads the endpoints
        const excludeEndpoints = this.target.saturated();
        // Cleared by a wake during the claim: what it announced may have been written after the claim read.
        this.drained = true;
        let jobs: DeliveryJob[];
        try {
          jobs = await this.store.claimDue({
            owner: this.owner,
            now,
            leaseUntil: until,
            limit,
            excludeEndpoints,
          });
        } catch (err) {
          this.drained = false;
          this.unanswered.push(until);
          this.traceClaim(now, limit, [], err);
          this.logger.error({ err }, "claiming due deliveries failed; retrying in 1s");
          await this.sleep(1000);
          continue;
        }
        if (jobs.length > 0) this.traceClaim(now, limit, jobs);
        if (jobs.length === limit || limit < this.tuning.claimBatch || excludeEndpoints.length > 0) this.drained = false;
        this.target.offer(jobs, until, epoch);
        if (jobs.length === limit) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        // A short claim means what is due belongs to busy endpoints or is
        // nothing at all: pause briefly so completions do not turn into a
        // stream of near-empty claims.
        await this.gap();
      }
      // Woken meanwhile: claim again at once, without asking the store when work is next due.
      await this.sleep(this.woken ? 0 : await this.idleWait(room));
    }
  }

  /** Gives back what failed claims may have leased; false (retry later) when the store still fails. */
  private async releaseUnanswered(): Promise<boolean> {
    const keep = this.target.held();
    try {
      for (const until of [...this.unanswered]) {
        const n = await this.store.releaseUnanswered(this.owner, until, keep, Date.now());
        this.unanswered.shift();
        if (n > 0) this.logger.warn({ deliveries: n }, "a claim's answer was lost: gave back what it had leased");
      }
      return true;
    } catch (err) {
      this.logger.warn({ err }, "could not give back what a failed claim may have leased; retrying in 1s");
      return false;
    }
  }

  /**
   * One `herald claim` span per claim that returned work (or failed): an idle
   * worker polling an empty queue records nothing. Made after the fact, with
   * the claim's start time; each job remembers it for its attempt's link.
   */
  private traceClaim(startTime: number, limit: number, jobs: DeliveryJob[], err?: unknown): void {
    const span = this.tracer.startSpan("herald claim", {
      kind: SpanKind.INTERNAL,
      startTime,
      root: true,
      attributes: { "herald.claim.limit": limit, "herald.claim.count": jobs.length, "herald.store": this.store.kind },
    });
    if (err !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    markClaimed(jobs, span.spanContext());
    span.end();
  }

  private async idleWait(room: number): Promise<number> {
    const poll = this.tuning.pollIntervalMs;
    if (room < this.tuning.claimBatch) return poll; // completions wake us when there is room
    try {
      const next = await this.store.nextDueAt();
      if (next === null) return poll;
      return Math.min(poll, Math.max(20, next - Date.now()));
    } catch {
      return poll;
    }
  }

  private gap(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.shortClaimGapMs);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.endGap = null;
        resolve();
      }
      this.endGap = done;
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.woken || !this.running) {
      this.woken = false;
      return Promise.resolve();
    }
    if (this.dueHint !== Number.POSITIVE_INFINITY) {
      ms = Math.min(ms, Math.max(0, this.dueHint - Date.now()));
      this.dueHint = Number.POSITIVE_INFINITY;
    }
    this.sleepsUntil = Date.now() + ms;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.sleepsUntil = 0;
        self.wakeUp = null;
        self.woken = false;
        resolve();
      }
      this.wakeUp = done;
    });
  }
}
