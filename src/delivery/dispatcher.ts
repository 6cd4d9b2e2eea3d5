import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { DeliveryTuning } from "../config/config.js";
import type { DeliveryId, EndpointId } from "../core/ids.js";
import type { RetryPolicy } from "../core/retry.js";
import type { SsrfGuard } from "../security/guard.js";
import type { DisabledReason } from "../store/model.js";
import type { Completion, DeliveryJob, Store } from "../store/store.js";
import { Completer } from "./completer.js";
import { EndpointSlot } from "./endpoint-slot.js";
import { decide, skip } from "./outcome.js";
import { attemptHeaders, oauth2Request } from "./request.js";
import { Sender } from "./sender.js";

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
/** The longest per-attempt timeout an endpoint may set; leases must outlive it. */
const MAX_TIMEOUT_MS = 30_000;

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

  private readonly held = new Set<DeliveryId>();
  private ready: DeliveryJob[] = [];
  private readyHead = 0;
  private readonly slots = new Map<EndpointId, EndpointSlot>();
  /** Endpoints with waiting work that only the global cap holds back. */
  private readonly starved = new Set<EndpointSlot>();
  private readonly inflight = new Set<Promise<void>>();
  /** Endpoints disabled by an outcome here, and when: their queued jobs are skipped. */
  private readonly disabledAt = new Map<EndpointId, number>();
  private toRelease: DeliveryId[] = [];

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
    this.leaseMs = MAX_TIMEOUT_MS + options.tuning.leaseMarginMs;
    this.maxHeld = options.tuning.concurrency * 8;
    this.waitingCap = options.tuning.perEndpointConcurrency * 4;
    this.completer = new Completer(options.store, options.logger, {
      onEffects: (effects) => {
        for (const d of effects.disabled) this.endpointDisabled(d.endpointId, d.reason);
      },
    });
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

  /** Moves the lease of every delivery held here (queued, waiting or in flight) a whole lease ahead. */
  async renewLeases(): Promise<void> {
    if (this.held.size === 0) return;
    try {
      await this.store.extendLeases(this.owner, [...this.held], Date.now() + this.leaseMs);
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
  leaseForPublish(now: number): { owner: string; until: number } | undefined {
    if (this.state !== "running" || this.held.size >= this.maxHeld) return undefined;
    return { owner: this.owner, until: now + this.leaseMs };
  }

  /** Takes jobs leased to this worker (by a publish or a claim). */
  offer(jobs: readonly DeliveryJob[]): void {
    if (this.state !== "running") {
      this.toRelease.push(...jobs.map((j) => j.delivery.id));
      this.flushReleases();
      return;
    }
    for (const job of jobs) {
      if (this.held.has(job.delivery.id)) continue;
      this.held.add(job.delivery.id);
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
      this.toRelease.push(job.delivery.id);
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
    this.toRelease.push(...this.held);
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
        this.offer(jobs);
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
        this.toRelease.push(job.delivery.id);
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
    return this.store.releaseLeases(ids, Date.now()).catch((err) => {
      this.logger.warn({ err, count: ids.length }, "could not release leases; they will expire");
    });
  }

  private begin(job: DeliveryJob, slot: EndpointSlot): void {
    slot.inflight++;
    const p: Promise<void> = this.attempt(job)
      .catch((err) => this.logger.error({ err, deliveryId: job.delivery.id }, "attempt crashed"))
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
    const { endpoint } = job;
    const disabledAt = this.disabledAt.get(endpoint.id);
    if (endpoint.status !== "active" || (disabledAt !== undefined && disabledAt >= endpoint.updatedAt)) {
      this.completer.add(skip(job));
      return;
    }
    const startedAt = Date.now();
    const attemptNumber = job.delivery.attempts + 1;
    const result = await this.sender.send({
      url: new URL(endpoint.url),
      headers: attemptHeaders(job, attemptNumber, startedAt),
      body: job.message.payload,
      timeoutMs: endpoint.timeoutMs ?? this.options.requestTimeoutMs,
      oauth2: oauth2Request(endpoint),
    });
    if (this.state === "stopped") return; // released already; it will be attempted again
    const completion = decide(job, result, attemptNumber, startedAt, endpoint.url, this.options.retry);
    if (completion.disableEndpoint === "gone") this.disabledAt.set(endpoint.id, startedAt);
    this.options.onOutcome?.(job, completion);
    this.completer.add(completion);
  }

  private endpointDisabled(endpointId: EndpointId, reason: DisabledReason): void {
    this.disabledAt.set(endpointId, Date.now());
    this.logger.warn({ endpointId, reason }, "endpoint disabled");
    this.options.onEndpointDisabled?.(endpointId, reason);
  }
}
