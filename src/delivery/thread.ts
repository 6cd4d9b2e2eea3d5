import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { HeraldConfig, RawSettings } from "../config/config.js";
import { HeraldError } from "../core/errors.js";
import type { AttemptSample, HeraldMetrics } from "../observability/metrics.js";
import type { LocalLease } from "../publish/publisher.js";
import type { DeliveryJob } from "../store/store.js";

/** Main thread → delivery thread. */
export type ToDeliveryThread =
  | { type: "wake" }
  | { type: "jobs"; jobs: DeliveryJob[]; until: number; epoch: number }
  | { type: "flush"; id: number }
  | { type: "stop" };

/** Delivery thread → main thread. */
export type FromDeliveryThread =
  | { type: "started"; owner: string; leaseMs: number; room: number }
  | { type: "room"; room: number; received: number }
  | { type: "failed"; code: string | null; message: string }
  | { type: "counts"; attempts: AttemptSample[]; fenced: number; id?: number }
  | { type: "stopped" };

/** What the thread opens its own Herald from (plain data: it crosses to the thread). */
export type DeliveryThreadSource = Pick<DeliveryThreadOptions, "settings" | "config">;

export interface DeliveryThreadOptions {
  /** The settings and overrides the process's Herald was opened with: the thread opens its own from them, role `worker`. */
  settings: RawSettings;
  config?: Partial<HeraldConfig>;
  /** The process's metrics: the thread's attempts are counted here, so `/metrics` shows them. */
  metrics: HeraldMetrics;
  logger: Logger;
  /**
   * The thread ended without being asked to (an uncaught error). Default: logged
   * at `fatal` and the process exits with code 1, as if delivery had crashed it
   * (no acknowledged publish is lost; a supervisor restarts it).
   */
  onCrash?: (err: Error) => void;
}

/**
 * Delivery in a thread of its own (`HERALD_DELIVERY_THREAD=on`, docs/architecture.md):
 * the API answers on the main thread while another one claims, signs, sends and
 * records, so the two use both cores instead of taking turns on one. The thread
 * runs a whole `Herald` of role `worker` on its own store connection (see
 * `src/delivery-thread-entry.ts`); this side wakes it when deliveries become due, gathers
 * its attempt counts into the process's metrics, and stops it gracefully.
 */
export class DeliveryThread {
  private worker: Worker | null = null;
  private wakeQueued = false;
  private stopping = false;
  private nextId = 1;
  private readonly flushes = new Map<number, () => void>();
  /** The thread's dispatcher, as publishes lease to it: its owner name and lease length. */
  private dispatcher: { owner: string; leaseMs: number } | null = null;
  /** What the thread last said it had room for, and how many handed-over jobs it had received by then. */
  private room = 0;
  private received = 0;
  /** Jobs handed over so far. */
  private sent = 0;

  constructor(private readonly options: DeliveryThreadOptions) {}

  /** Starts the thread and resolves once it delivers; rejects as `Herald.start()` would (a `conflict` on a locked SQLite file). */
  start(): Promise<void> {
    if (this.worker) return Promise.resolve();
    const worker = new Worker(entryUrl(), { workerData: { settings: this.options.settings, config: this.options.config ?? {} } });
    this.worker = worker;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on("message", (m: FromDeliveryThread) => {
        if (m.type === "started") {
          started = true;
          this.dispatcher = { owner: m.owner, leaseMs: m.leaseMs };
          this.room = m.room;
          resolve();
        } else if (m.type === "room") {
          this.room = m.room;
          this.received = m.received;
        } else if (m.type === "failed") {
          reject(m.code ? new HeraldError(m.code as HeraldError["code"], m.message) : new Error(m.message));
        } else if (m.type === "counts") {
          this.count(m);
        }
      });
      worker.on("error", (err) => {
        if (!started) return reject(err);
        this.options.logger.error({ err }, "the delivery thread failed");
      });
      worker.on("exit", (code) => {
        this.worker = null;
        this.dispatcher = null;
        for (const done of this.flushes.values()) done();
        this.flushes.clear();
        if (!started) return reject(new Error(`the delivery thread ended at start (exit code ${code})`));
        if (!this.stopping) {
          const err = new Error(`the delivery thread ended unexpectedly (exit code ${code})`);
          if (this.options.onCrash) this.options.onCrash(err);
          else {
            this.options.logger.fatal({ err }, "delivery stopped; exiting");
            process.exit(1);
          }
        }
      });
    });
  }

  /** Deliveries became due (a publish committed, an endpoint recovered): the thread claims now, not at its next poll. */
  wake(): void {
    if (this.wakeQueued || !this.worker) return;
    this.wakeQueued = true;
    // Every wake of one turn (a group commit answers many publishes) is one message.
    queueMicrotask(() => {
      this.wakeQueued = false;
      this.post({ type: "wake" });
    });
  }

  /**
   * A lease for a publish, so that its deliveries are handed to the thread in
   * memory (`offer`) instead of waiting for its claim, as the in-process
   * dispatcher's `leaseForPublish`. At most what the thread said it had room
   * for, less what was handed over since (credit-based: the thread never holds
   * more than its bound). Undefined before start, while stopping, or when full.
   */
  leaseForPublish(now: number, epoch: () => number): LocalLease | undefined {
    const d = this.dispatcher;
    if (!d || this.stopping || !this.worker) return undefined;
    const credit = this.room - (this.sent - this.received);
    if (credit <= 0) return undefined;
    return { owner: d.owner, until: now + d.leaseMs, max: credit, epoch: epoch() };
  }

  /** Hands jobs a publish leased to the thread (`leaseForPublish`) over to it. */
  offer(jobs: DeliveryJob[], lease: LocalLease): void {
    this.sent += jobs.length;
    this.post({ type: "jobs", jobs, until: lease.until, epoch: lease.epoch });
  }

  /** Brings the thread's attempt counts into the metrics now (before a scrape); at most 1 s. */
  flushMetrics(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), 1000);
      const done = () => {
        clearTimeout(timer);
        this.flushes.delete(id);
        resolve();
      };
      this.flushes.set(id, done);
      this.post({ type: "flush", id });
    });
  }

  /** Graceful stop: the thread finishes its in-flight attempts (up to the shutdown deadline), records them and closes its store. */
  async stop(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.stopping = true;
    const stopped = new Promise<void>((resolve) => {
      worker.on("message", (m: FromDeliveryThread) => m.type === "stopped" && resolve());
      worker.once("exit", () => resolve());
    });
    this.post({ type: "stop" });
    await stopped;
    await worker.terminate();
  }

  private count(m: Extract<FromDeliveryThread, { type: "counts" }>): void {
    const { metrics } = this.options;
    for (const sample of m.attempts) metrics.attemptSample(sample);
    if (m.fenced > 0) metrics.fenced(m.fenced);
    if (m.id !== undefined) this.flushes.get(m.id)?.();
  }

  private post(message: ToDeliveryThread): void {
    this.worker?.postMessage(message);
  }
}

/**
 * The thread's module, from the build: under the test runner this file runs
 * from `src/` as TypeScript, which a worker thread cannot load, so it takes
 * `dist/` (`npm test` builds first).
 */
function entryUrl(): URL {
  const here = new URL("../delivery-thread-entry.js", import.meta.url);
  if (!import.meta.url.endsWith(".ts")) return here;
  const built = new URL("../../dist/delivery-thread-entry.js", import.meta.url);
  return existsSync(built) ? built : here;
}
