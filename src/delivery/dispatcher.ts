import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { DeliveryTuning } from "../config/config.js";
import type { DeliveryId, EndpointId } from "../core/ids.js";
import type { RetryPolicy } from "../core/retry.js";
import type { SsrfGuard } from "../security/guard.js";
import type { DisabledReason } from "../store/model.js";
import type { Endpoint } from "../store/model.js";
import type { Completion, DeliveryJob, HeldLease, Store } from "../store/store.js";
import { Completer } from "./completer.js";
import { EndpointSlot } from "./endpoint-slot.js";
import { LeaseChecker } from "./lease-check.js";
import { decide, skip } from "./outcome.js";
import { attemptHeaders, oauth2Request } from "./request.js";
import { type SendResult, Sender } from "./sender.js";

export interface DispatcherOptions {
  store: Store;
  logger: Logger;
  retry: RetryPolicy;
  requestTimeoutMs: number;
  tuning: DeliveryTuning;
  sender?: Sender;
  /** The SSRF guard of the default sender (ignored when `sender` is given). Default: only globally routable addresses. */
  guard?: SsrfGuard;
  /** Called when an attempt's outcome disabled an endpoint (`gone` or `failing`). */
  onEndpointDisabled?: (endpointId: EndpointId, reason: DisabledReason) => void;
  /** Called after each attempt with what it decided (operational events). Must not throw. */
  onOutcome?: (job: DeliveryJob, completion: Completion) => void;
}

/** Pause after a claim that came back short. */
const MIN_CLAIM_GAP_MS = 5;

/** A job this worker holds, and until when its lease runs as far as this worker knows. */
interface Held {
  job: DeliveryJob;
  until: number;
}

/**
 * The delivery engine of one process. Work arrives two ways: freshly published
 * deliveries are handed over in memory (already leased to this worker by the
 * publish transaction), and everything else — retries, recoveries, work left by
 * a crashed process — is claimed from the store in batches with a lease.
 *
 * Concurrency is capped globally and per endpoint, so one slow or dead receiver
 * holds at most `perEndpointConcurrency` slots; its surplus waits in a bounded
 * list, and beyond that goes back to the store, which is not asked for that
 * endpoint's work until it has room again. Memory stays bounded by `maxHeld`.
 *
 * Leases: everything held is renewed every third of a lease; right before
 * attempts start, their leases are checked in the store (batched), so a worker
 * that lost a lease (frozen past it, its presence gone) or whose endpoint was
 * deleted or disabled meanwhile sends nothing; a late outcome is fenced off by
 * the store. See docs/guarantees.md.
 */
export class Dispatcher {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly sender: Sender;
  private readonly completer: Completer;
  private readonly tuning: DeliveryTuning;
  private readonly leaseMs: number;
  private readonly maxHeld: number;
  private readonly waitingCap: number;

  private readonly held = new Map<DeliveryId, Held>();
  private ready: DeliveryJob[] = [];
  private readyHead = 0;
  private readonly slots = new Map<EndpointId, EndpointSlot>();
  /** Endpoints with waiting work that only the global cap holds back. */
  private readonly starved = new Set<EndpointSlot>();
  private readonly inflight = new Set<Promise<void>>();
  /** Endpoints disabled by an outcome here, and when: their queued jobs are skipped. */
  private readonly disabledAt = new Map<EndpointId, number>();
  private toRelease: HeldLease[] = [];
  private readonly checker: LeaseChecker;
  /** Fresh copies of endpoints that changed while their work was held, by id and `updatedAt`. */
  private readonly reloads = new Map<string, Promise<Endpoint | null>>();

  private state: "idle" | "running" | "stopping" | "stopped" = "idle";
  private loop: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private renewal: NodeJS.Timeout | null = null;

  constructor(private readonly options: DispatcherOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.tuning = options.tuning;
    this.sender = options.sender ?? new Sender({ connectionsPerOrigin: options.tuning.perEndpointConcurrency * 2, guard: options.guard });
    this.leaseMs = options.tuning.leaseMs;
    this.maxHeld = options.tuning.concurrency * 8;
    this.waitingCap = options.tuning.perEndpointConcurrency * 4;
    this.completer = new Completer(options.store, options.logger, {
      onEffects: (effects) => {
        for (const d of effects.disabled) this.endpointDisabled(d.endpointId, d.reason);
        if (effects.fenced.length > 0) {
          // Another worker (or an operator's resend, recovery or delete) took these over meanwhile.
          this.logger.warn({ deliveries: effects.fenced.length, ids: effects.fenced.slice(0, 10) }, "lease lost: outcome not recorded");
        }
      },
    });
    this.checker = new LeaseChecker(options.store, this.owner, (err, count) =>
      this.logger.warn({ err, count }, "could not check leases; those attempts wait for their leases to run out"),
    );
  }

  /** Starts claiming and sending. Idempotent. */
  start(): void {
    if (this.state !== "idle") return;
    this.state = "running";
    this.loop = this.run();
    // Work can wait in memory longer than one lease (behind a slow or
    // rate-limited endpoint, or the global cap): renewing every third of a
    // lease keeps it ours, so no other worker takes it while this one lives.
    this.renewal = setInterval(() => void this.renewLeases(), this.leaseMs / 3);
    this.renewal.unref();
  }

  /**
   * Moves the lease of every delivery held here (queued, waiting or in flight)
   * a whole lease ahead. What the store did not extend is no longer ours: its
   * in-memory deadline is left to pass, so it is never started (and an
   * attempt already running is fenced off when it completes).
   */
  async renewLeases(): Promise<void> {
    if (this.held.size === 0) return;
    const entries = [...this.held.values()];
    const until = Date.now() + this.leaseMs;
    try {
      const extended = new Set(await this.store.extendLeases(this.owner, entries.map(leaseOf), until));
      let lost = 0;
      for (const h of entries) {
        if (extended.has(h.job.delivery.id)) h.until = Math.max(h.until, until);
        else lost++;
      }
      if (lost > 0) this.logger.warn({ deliveries: lost }, "leases lost; that work is no longer this worker's");
    } catch (err) {
      this.logger.warn({ err, count: this.held.size }, "could not renew leases; retrying at the next renewal");
    }
  }

  get running(): boolean {
    return this.state === "running";
  }

  /** Jobs held in memory (queued, waiting or in flight). */
  get load(): number {
    return this.held.size;
  }

  /**
   * The lease a publish may write so that its deliveries come straight here,
   * or undefined when this dispatcher is not running or already holds enough.
   */
  leaseForPublish(now: number): { owner: string; until: number; max: number } | undefined {
    const room = this.maxHeld - this.held.size;
    if (this.state !== "running" || room <= 0) return undefined;
    return { owner: this.owner, until: now + this.leaseMs, max: room };
  }

  /** Takes jobs leased to this worker (by a publish or a claim) until `until`. */
  offer(jobs: readonly DeliveryJob[], until: number): void {
    if (this.state !== "running") {
      this.toRelease.push(...jobs.map(leaseOfJob));
      this.flushReleases();
      return;
    }
    for (const job of jobs) {
      const known = this.held.get(job.delivery.id);
      if (known) {
        // Claimed again by us (our lease had run out): the newer lease is the one to complete under.
        known.job.lease = job.lease;
        known.until = until;
        continue;
      }
      this.held.set(job.delivery.id, { job, until });
      this.ready.push(job);
    }
    this.pump();
  }

  /** Tells the claim loop to look for due work now. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Graceful stop: no more claims, queued work goes back to the store, in-flight
   * attempts get up to `shutdownTimeoutMs` to finish and be recorded; whatever
   * is still running then is released (and will be attempted again).
   */
  stop(): Promise<void> {
    if (this.state === "idle") {
      this.state = "stopped";
      return Promise.resolve();
    }
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.state = "stopping";
    if (this.renewal) clearInterval(this.renewal);
    this.wake();
    await this.loop;
    const queued = this.ready.slice(this.readyHead);
    this.starved.clear();
    for (const slot of this.slots.values()) {
      queued.push(...slot.waiting.splice(0));
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
    }
    this.ready = [];
    this.readyHead = 0;
    for (const job of queued) {
      this.held.delete(job.delivery.id);
      this.toRelease.push(leaseOfJob(job));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((r) => {
        timer = setTimeout(r, this.tuning.shutdownTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    await this.completer.flush();
    const unfinished = this.inflight.size > 0;
    this.toRelease.push(...[...this.held.values()].map(leaseOf));
    this.state = "stopped";
    await this.flushReleases();
    await this.sender.close(unfinished);
  }

  private async run(): Promise<void> {
    while (this.state === "running") {
      const room = this.maxHeld - this.held.size;
      if (room >= Math.min(this.tuning.claimBatch, this.maxHeld / 4)) {
        const limit = Math.min(this.tuning.claimBatch, room);
        const now = Date.now();
        let jobs: DeliveryJob[];
        try {
          jobs = await this.store.claimDue({
            owner: this.owner,
            now,
            leaseUntil: now + this.leaseMs,
            limit,
            excludeEndpoints: this.saturated(),
          });
        } catch (err) {
          this.logger.error({ err }, "claiming due deliveries failed; retrying in 1s");
          await this.sleep(1000);
          continue;
        }
        this.offer(jobs, now + this.leaseMs);
        if (jobs.length === limit) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        // A short claim means what is due belongs to busy endpoints or is
        // nothing at all: pause briefly so completions do not turn into a
        // stream of near-empty claims.
        await new Promise((r) => setTimeout(r, MIN_CLAIM_GAP_MS));
      }
      await this.sleep(await this.idleWait(room));
    }
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

  private sleep(ms: number): Promise<void> {
    if (this.woken || this.state !== "running") {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wakeUp = null;
        self.woken = false;
        resolve();
      }
      this.wakeUp = done;
    });
  }

  /** Endpoints with a full round of work already waiting: claiming more of theirs would only queue it. */
  private saturated(): EndpointId[] {
    const out: EndpointId[] = [];
    const full = this.tuning.perEndpointConcurrency;
    for (const [id, slot] of this.slots) if (slot.waiting.length >= Math.min(full, slot.waitingCap(this.waitingCap))) out.push(id);
    return out;
  }

  private slot(id: EndpointId): EndpointSlot {
    let s = this.slots.get(id);
    if (!s) {
      s = new EndpointSlot(id);
      this.slots.set(id, s);
    }
    return s;
  }

  private pump(): void {
    const { concurrency, perEndpointConcurrency } = this.tuning;
    while (this.inflight.size < concurrency && this.readyHead < this.ready.length) {
      const job = this.ready[this.readyHead++]!;
      const slot = this.slot(job.delivery.endpointId);
      slot.rateLimit = job.endpoint.rateLimit;
      if (slot.waiting.length === 0 && slot.tryStart(perEndpointConcurrency, Date.now())) {
        this.begin(job, slot);
      } else if (slot.waiting.length < slot.waitingCap(this.waitingCap)) {
        slot.waiting.push(job);
        this.scheduleWaiting(slot);
      } else {
        this.held.delete(job.delivery.id);
        this.toRelease.push(leaseOfJob(job));
      }
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    this.flushReleases();
  }

  private flushReleases(): Promise<void> {
    if (this.toRelease.length === 0) return Promise.resolve();
    const ids = this.toRelease;
    this.toRelease = [];
    return this.store.releaseLeases(this.owner, ids, Date.now()).catch((err) => {
      this.logger.warn({ err, count: ids.length }, "could not release leases; they will expire");
    });
  }

  private begin(job: DeliveryJob, slot: EndpointSlot): void {
    slot.inflight++;
    const p: Promise<void> = this.attempt(job)
      .catch((err) => this.logger.error({ err, deliveryId: job.delivery.id }, "recording an attempt failed"))
      .finally(() => {
        this.inflight.delete(p);
        slot.inflight--;
        this.held.delete(job.delivery.id);
        if (this.state !== "running") return;
        this.startWaiting(slot);
        this.feedStarved();
        this.pump();
        // Claiming helps only if this endpoint can take more and there is room;
        // otherwise the claim would come back empty.
        if (slot.waiting.length < this.tuning.perEndpointConcurrency && this.maxHeld - this.held.size >= this.tuning.claimBatch) {
          this.wake();
        }
      });
    this.inflight.add(p);
  }

  /** Starts an endpoint's waiting work as far as its slots and rate allow. */
  private startWaiting(slot: EndpointSlot): void {
    const cap = this.tuning.perEndpointConcurrency;
    while (slot.waiting.length > 0) {
      if (this.inflight.size >= this.tuning.concurrency) {
        this.starved.add(slot); // resumed by the next completion anywhere
        return;
      }
      if (!slot.tryStart(cap, Date.now())) break;
      this.begin(slot.waiting.shift()!, slot);
    }
    this.scheduleWaiting(slot);
    if (slot.idle) this.slots.delete(slot.id);
  }

  /** Gives a freed global slot to an endpoint whose waiting work was held back by the global cap. */
  private feedStarved(): void {
    for (const slot of this.starved) {
      if (this.inflight.size >= this.tuning.concurrency) return;
      this.starved.delete(slot);
      this.startWaiting(slot);
    }
  }

  /** A rate-limited endpoint with work waiting and a free slot wakes itself when a token is due. */
  private scheduleWaiting(slot: EndpointSlot): void {
    if (slot.timer || slot.waiting.length === 0 || slot.rateLimit === null) return;
    if (slot.inflight >= this.tuning.perEndpointConcurrency) return; // a completion will start it
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (this.state === "running") this.startWaiting(slot);
    }, slot.msUntilToken());
  }

  private async attempt(job: DeliveryJob): Promise<void> {
    if (!this.stillHeld(job)) return;
    const verdict = await this.checker.check(job);
    if (verdict.kind === "lost") return; // someone else's now, or deleted: nothing to send or record
    if (verdict.kind === "unknown") {
      // The store did not answer: send nothing; give the lease back (fenced) so the work is due again.
      this.toRelease.push(leaseOfJob(job));
      return;
    }
    if (verdict.kind === "changed") {
      const fresh = await this.reload(job);
      if (!fresh) return; // deleted meanwhile
      job.endpoint = fresh;
    }
    const { endpoint } = job;
    const disabledAt = this.disabledAt.get(endpoint.id);
    if (endpoint.status !== "active" || (disabledAt !== undefined && disabledAt >= endpoint.updatedAt)) {
      this.completer.add(skip(job));
      return;
    }
    // The check took a round trip: a worker frozen meanwhile must not send late.
    if (!this.stillHeld(job) || this.stopped) return;
    const startedAt = Date.now();
    const attemptNumber = job.delivery.attempts + 1;
    let completion: Completion;
    try {
      const result = await this.sender.send({
        url: new URL(endpoint.url),
        headers: attemptHeaders(job, attemptNumber, startedAt),
        body: job.message.payload,
        timeoutMs: endpoint.timeoutMs ?? this.options.requestTimeoutMs,
        oauth2: oauth2Request(endpoint),
      });
      if (this.stopped) return; // released already; it will be attempted again
      completion = decide(job, result, attemptNumber, startedAt, endpoint.url, this.options.retry);
    } catch (err) {
      // A fault of Herald's own (a bug, a bad stored value): recorded as an
      // attempt and retried on the schedule, not left to an endless loop of
      // expiring leases.
      this.logger.error({ err, deliveryId: job.delivery.id }, "attempt failed inside Herald");
      completion = decide(job, internalFailure(err, startedAt), attemptNumber, startedAt, endpoint.url, this.options.retry);
    }
    if (completion.disableEndpoint === "gone") this.disabledAt.set(endpoint.id, startedAt);
    try {
      this.options.onOutcome?.(job, completion);
    } catch (err) {
      this.logger.error({ err }, "an outcome listener threw");
    }
    this.completer.add(completion);
  }

  private get stopped(): boolean {
    return this.state === "stopped";
  }

  /** Whether this worker's lease on the job has not run out by its own clock. */
  private stillHeld(job: DeliveryJob): boolean {
    const h = this.held.get(job.delivery.id);
    return h !== undefined && h.job.lease === job.lease && Date.now() < h.until;
  }

  /** The endpoint as stored now (shared by every job of it waiting on the same change). */
  private reload(job: DeliveryJob): Promise<Endpoint | null> {
    const key = `${job.endpoint.id}:${job.endpoint.updatedAt}`;
    let p = this.reloads.get(key);
    if (!p) {
      p = this.store.getEndpoint(job.delivery.appId, job.endpoint.id).catch(() => null);
      this.reloads.set(key, p);
      setTimeout(() => this.reloads.delete(key), 1000).unref();
    }
    return p;
  }

  private endpointDisabled(endpointId: EndpointId, reason: DisabledReason): void {
    this.disabledAt.set(endpointId, Date.now());
    this.logger.warn({ endpointId, reason }, "endpoint disabled");
    this.options.onEndpointDisabled?.(endpointId, reason);
  }
}

const leaseOfJob = (job: DeliveryJob): HeldLease => ({ id: job.delivery.id, gen: job.lease.gen });
const leaseOf = (h: Held): HeldLease => leaseOfJob(h.job);

function internalFailure(err: unknown, startedAt: number): SendResult {
  return {
    ok: false,
    statusCode: null,
    headers: null,
    body: null,
    errorKind: "internal",
    errorMessage: `Herald could not make this attempt: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500),
    durationMs: Date.now() - startedAt,
  };
}
