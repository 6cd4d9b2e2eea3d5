import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { DeliveryTuning } from "../config/config.js";
import type { EndpointId } from "../core/ids.js";
import type { RetryPolicy } from "../core/retry.js";
import type { SsrfGuard } from "../security/guard.js";
import type { DisabledReason, Endpoint } from "../store/model.js";
import type { Completion, DeliveryJob, Store } from "../store/store.js";
import { ClaimLoop } from "./claim-loop.js";
import type { LocalLease } from "../publish/publisher.js";
import { Completer } from "./completer.js";
import { EndpointSlot } from "./endpoint-slot.js";
import { HeldLeases } from "./held-leases.js";
import { LeaseChecker } from "./lease-check.js";
import { cancelled, decide, skip } from "./outcome.js";
import { prepareAttempt } from "./prepare.js";
import { TransformPool } from "../transform/pool.js";
import { type Destination, defaultDestinations, failedResult, type SendResult } from "./destinations/index.js";
import { endAttemptSpan, startAttemptSpan } from "../observability/attempt-span.js";
import { heraldTracer } from "../observability/tracing.js";

export interface DispatcherOptions {
  store: Store;
  logger: Logger;
  retry: RetryPolicy;
  requestTimeoutMs: number;
  tuning: DeliveryTuning;
  /** Where attempts go. Default: `defaultDestinations` (HTTP and HTTPS, by URL scheme). */
  sender?: Destination;
  /** The SSRF guard of the default destinations (ignored when `sender` is given). Default: only globally routable addresses. */
  guard?: SsrfGuard;
  /** The client certificate the default destinations present to brokers over TLS (`HERALD_BROKER_TLS_CERT`). Default: none. */
  brokerClientCert?: { cert: Buffer; key: Buffer } | undefined;
  /** Called when an attempt's outcome disabled an endpoint (`gone` or `failing`). */
  onEndpointDisabled?: (endpointId: EndpointId, reason: DisabledReason) => void;
  /** Called with the number of outcomes the store refused because their lease was lost (metrics). */
  onFenced?: (count: number) => void;
  /** Called after each attempt with what it decided (operational events, metrics). Must not throw. */
  onOutcome?: (job: DeliveryJob, completion: Completion) => void;
  /** Runs endpoints' transformations. Default: a pool of its own (2 threads, default limits), closed when the dispatcher stops. */
  transforms?: TransformPool;
  /** Where `herald claim` and `herald attempt` spans go. Default: the global OpenTelemetry provider (a no-op unless an SDK is registered). */
  tracer?: Tracer;
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
 * Leases: everything held is renewed every third of a lease, and runs out by
 * this worker's own clock too. Before an attempt, when the store's change
 * epoch moved since the work was loaded (an endpoint changed; on PostgreSQL
 * also this worker's connection lost), its lease and endpoint are checked in
 * the store (batched), so a worker that lost a lease or whose endpoint was
 * deleted or disabled meanwhile sends nothing; a late outcome is fenced off by
 * the store. See docs/guarantees.md.
 */
export class Dispatcher {
  readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  private readonly store: Store;
  private readonly logger: Logger;
  private readonly sender: Destination;
  private readonly completer: Completer;
  private readonly tuning: DeliveryTuning;
  private readonly leaseMs: number;
  private readonly maxHeld: number;
  private readonly waitingCap: number;

  /** Everything held in memory (queued, waiting or in flight), with its lease. */
  private readonly held: HeldLeases;
  private ready: DeliveryJob[] = [];
  private readyHead = 0;
  private readonly slots = new Map<EndpointId, EndpointSlot>();
  /** Endpoints with waiting work that only the global cap holds back. */
  private readonly starved = new Set<EndpointSlot>();
  private readonly inflight = new Set<Promise<void>>();
  /** Endpoints disabled by an outcome here, and when: their queued jobs are skipped. */
  private readonly disabledAt = new Map<EndpointId, number>();
  private readonly checker: LeaseChecker;
  /** Fresh copies of endpoints that changed while their work was held, by id and `updatedAt`. */
  private readonly reloads = new Map<string, Promise<Endpoint | null>>();

  private state: "idle" | "running" | "stopping" | "stopped" = "idle";
  private readonly claims: ClaimLoop;
  private stopping: Promise<void> | null = null;
  private renewal: NodeJS.Timeout | null = null;
  private readonly tracer: Tracer;
  private readonly transforms: TransformPool;

  constructor(private readonly options: DispatcherOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.tracer = options.tracer ?? heraldTracer();
    this.transforms = options.transforms ?? new TransformPool();
    this.tuning = options.tuning;
    this.sender =
      options.sender ??
      defaultDestinations({
        connectionsPerOrigin: options.tuning.perEndpointConcurrency * 2,
        guard: options.guard,
        ...(options.brokerClientCert ? { brokerClientCert: options.brokerClientCert } : {}),
      });
    this.leaseMs = options.tuning.leaseMs;
    this.held = new HeldLeases(options.store, this.owner, this.leaseMs, options.logger, () => this.claims.wake());
    this.maxHeld = options.tuning.concurrency * 8;
    this.waitingCap = options.tuning.perEndpointConcurrency * 4;
    this.completer = new Completer(options.store, options.logger, {
      // A retry recorded now may be due before the claim loop would look again.
      onRetry: (at) => this.claims.dueAt(at),
      onEffects: (effects) => {
        for (const d of effects.disabled) this.endpointDisabled(d.endpointId, d.reason);
        // The next delivery of a FIFO queue is due: claim it now, not at the next poll.
        if (effects.promoted) this.claims.promoted();
        if (effects.fenced.length > 0) {
          // Another worker (or an operator's resend, recovery or delete) took these over meanwhile.
          this.logger.warn({ deliveries: effects.fenced.length, ids: effects.fenced.slice(0, 10) }, "lease lost: outcome not recorded");
          this.options.onFenced?.(effects.fenced.length);
        }
      },
    });
    this.claims = new ClaimLoop(
      options.store,
      this.owner,
      this.leaseMs,
      options.tuning,
      this.maxHeld,
      { room: () => this.maxHeld - this.held.size, held: () => this.held.ids(), saturated: () => this.saturated(), offer: (jobs, until, epoch) => this.offer(jobs, until, epoch) },
      options.logger,
      this.tracer,
    );
    this.checker = new LeaseChecker(options.store, this.owner, (err, count) =>
      this.logger.warn({ err, count }, "could not check leases; those attempts are given back, not sent"),
    );
  }

  /** Starts claiming and sending. Idempotent. */
  start(): void {
    if (this.state !== "idle") return;
    this.state = "running";
    this.claims.start();
    // Work can wait in memory longer than one lease (behind a slow or
    // rate-limited endpoint, or the global cap): renewing every third of a
    // lease keeps it ours, so no other worker takes it while this one lives.
    this.renewal = setInterval(() => {
      this.sweepSlots();
      void this.renewLeases();
    }, this.leaseMs / 3);
    this.renewal.unref();
  }

  /** Moves the lease of every delivery held here a whole lease ahead (see `HeldLeases.renew`). */
  renewLeases(): Promise<void> {
    return this.held.renew();
  }

  get running(): boolean {
    return this.state === "running";
  }

  /** How many more jobs this dispatcher takes now (what `leaseForPublish` would offer); 0 unless running. */
  get room(): number {
    return this.state === "running" ? Math.max(0, this.maxHeld - this.held.size) : 0;
  }

  /**
   * Called whenever a job left memory (its attempt was recorded or given back):
   * `room` grew. The delivery thread reports it to the publishing thread.
   */
  onRoomFreed: (() => void) | null = null;

  /** Jobs held in memory (queued, waiting or in flight). */
  get load(): number {
    return this.held.size;
  }

  /**
   * The lease a publish may write so that its deliveries come straight here,
   * or undefined when this dispatcher is not running or already holds enough.
   */
  leaseForPublish(now: number): LocalLease | undefined {
    const room = this.room;
    if (room === 0) return undefined;
    return { owner: this.owner, until: now + this.leaseMs, max: room, epoch: this.store.changeEpoch() };
  }

  /** Takes jobs leased to this worker (by a publish or a claim) until `until`; `epoch` was read before they were loaded. */
  offer(jobs: readonly DeliveryJob[], until: number, epoch: number): void {
    if (this.state !== "running") {
      for (const job of jobs) this.held.release(job);
      void this.held.flush();
      return;
    }
    for (const job of jobs) if (this.held.take(job, until, epoch)) this.ready.push(job);
    this.pump();
  }

  /** Tells the claim loop to look for due work now. */
  wake(): void {
    this.claims.wake();
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
    await this.claims.stop();
    const queued = this.ready.slice(this.readyHead);
    this.starved.clear();
    for (const slot of this.slots.values()) {
      queued.push(...slot.waiting.splice(0));
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
    }
    this.ready = [];
    this.readyHead = 0;
    for (const job of queued) this.held.release(job);
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
    this.held.releaseAll();
    this.state = "stopped";
    await this.held.flush();
    await this.sender.close(unfinished);
    if (!this.options.transforms) await this.transforms.close();
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
      if (this.knownDisabled(job)) {
        this.skipNow(job); // takes no slot and no rate-limit token
        continue;
      }
      const slot = this.slot(job.delivery.endpointId);
      slot.rateLimit = job.endpoint.rateLimit;
      if (slot.waiting.length === 0 && slot.tryStart(perEndpointConcurrency, Date.now())) {
        this.begin(job, slot);
      } else if (slot.waiting.length < slot.waitingCap(this.waitingCap)) {
        slot.waiting.push(job);
        this.scheduleWaiting(slot);
      } else {
        this.held.release(job);
      }
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    void this.held.flush();
  }

  private begin(job: DeliveryJob, slot: EndpointSlot): void {
    slot.inflight++;
    const p: Promise<void> = this.attempt(job)
      .catch((err) => this.logger.error({ err, deliveryId: job.delivery.id }, "recording an attempt failed"))
      .finally(() => {
        this.inflight.delete(p);
        slot.inflight--;
        this.held.drop(job);
        this.onRoomFreed?.();
        if (this.state !== "running") return;
        this.startWaiting(slot);
        this.feedStarved();
        this.pump();
        // Claiming helps only if this endpoint can take more and there is room;
        // otherwise the claim would come back empty.
        if (slot.waiting.length < this.tuning.perEndpointConcurrency && this.maxHeld - this.held.size >= this.tuning.claimBatch) {
          this.claims.roomFreed();
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
    if (slot.forgettable(Date.now())) this.slots.delete(slot.id);
  }

  /** Slots with nothing to do and a full bucket again: a new slot would start the same. */
  private sweepSlots(): void {
    const now = Date.now();
    for (const slot of this.slots.values()) if (slot.forgettable(now)) this.slots.delete(slot.id);
  }

  /** Whether the job's endpoint is known to be disabled since the job's copy of it was read. */
  private knownDisabled(job: DeliveryJob): boolean {
    const at = this.disabledAt.get(job.endpoint.id);
    return job.endpoint.status !== "active" || (at !== undefined && at >= job.endpoint.updatedAt);
  }

  /** Records a held job as skipped (its endpoint is disabled), without an attempt. Fenced like any completion. */
  private skipNow(job: DeliveryJob): void {
    this.held.drop(job);
    this.completer.add(skip(job));
  }

  /** An endpoint was disabled: what waits for it here is skipped now, not one rate-limit token at a time. */
  private drainDisabled(endpointId: EndpointId): void {
    const slot = this.slots.get(endpointId);
    if (!slot || slot.waiting.length === 0) return;
    const keep: DeliveryJob[] = [];
    for (const job of slot.waiting.splice(0)) {
      if (this.knownDisabled(job)) this.skipNow(job);
      else keep.push(job);
    }
    slot.waiting.push(...keep);
    if (keep.length === 0 && slot.timer) {
      clearTimeout(slot.timer);
      slot.timer = null;
    }
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
    if (!this.held.stillHeld(job)) return;
    // Asking the store costs a round trip per batch: only when something may have changed.
    const verdict = this.held.unchangedSince(job, this.store.changeEpoch()) ? ({ kind: "held" } as const) : await this.checker.check(job);
    if (verdict.kind === "lost") return; // someone else's now, or deleted: nothing to send or record
    if (verdict.kind === "unknown") {
      // The store did not answer: send nothing; give the lease back (fenced) so the work is due again.
      this.held.release(job);
      return;
    }
    if (verdict.kind === "changed") {
      const fresh = await this.reload(job);
      if (!fresh) return; // deleted meanwhile
      job.endpoint = fresh;
      if (fresh.status !== "active") {
        this.disabledAt.set(fresh.id, Math.max(this.disabledAt.get(fresh.id) ?? 0, fresh.updatedAt));
        this.drainDisabled(fresh.id);
      }
    }
    const { endpoint } = job;
    if (this.knownDisabled(job)) {
      this.completer.add(skip(job));
      return;
    }
    // The check took a round trip: a worker frozen meanwhile must not send late.
    if (!this.held.stillHeld(job) || this.stopped) return;
    const startedAt = Date.now();
    const attemptNumber = job.delivery.attempts + 1;
    const { span, traceparent } = startAttemptSpan(this.tracer, job, attemptNumber, startedAt);
    let completion: Completion;
    try {
      const prepared = await prepareAttempt(job, attemptNumber, startedAt, traceparent, this.options.requestTimeoutMs, this.transforms);
      const result = prepared.kind === "send" ? await this.sender.send(prepared.attempt) : prepared.result;
      if (this.stopped) {
        span.end();
        return; // released already; it will be attempted again
      }
      completion =
        prepared.kind === "cancelled"
          ? cancelled(job, result, attemptNumber, startedAt, prepared.url)
          : decide(job, result, attemptNumber, startedAt, prepared.url, this.options.retry);
    } catch (err) {
      // A fault of Herald's own (a bug, a bad stored value): recorded as an
      // attempt and retried on the schedule, not left to an endless loop of
      // expiring leases.
      this.logger.error({ err, deliveryId: job.delivery.id }, "attempt failed inside Herald");
      completion = decide(job, internalFailure(err, startedAt), attemptNumber, startedAt, endpoint.url, this.options.retry);
    }
    endAttemptSpan(span, completion);
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
    this.drainDisabled(endpointId);
    this.logger.warn({ endpointId, reason }, "endpoint disabled");
    this.options.onEndpointDisabled?.(endpointId, reason);
  }
}

function internalFailure(err: unknown, startedAt: number): SendResult {
  const message = `Herald could not make this attempt: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
  return failedResult("internal", message, Date.now() - startedAt);
}
