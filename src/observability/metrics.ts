import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Attempt, AttemptErrorKind } from "../store/model.js";
import type { Store } from "../store/store.js";
import { VERSION } from "../version.js";

/**
 * Herald's Prometheus metrics, on `prom-client`, one registry per Herald (two
 * in one process, as in tests, count apart). Every label has a fixed, small
 * set of values: no endpoint, application or message ids, no URLs. The store
 * is read at scrape time with two cheap queries whatever the number of
 * endpoints (`queueDepth`, `nextDueAt`). The list, with types and labels:
 * docs/observability.md.
 */

/** `outcome` of an attempt: `success`, or why it failed (the attempt's `errorKind`). */
export type AttemptOutcome = "success" | AttemptErrorKind;

/** An attempt's `outcome`: `success`, else its `errorKind` (`internal` when it has none). */
export const attemptOutcome = (attempt: Pick<Attempt, "success" | "errorKind">): AttemptOutcome => (attempt.success ? "success" : (attempt.errorKind ?? "internal"));

/** Every value `outcome` can take (so that each series exists from the start, at 0). */
export const ATTEMPT_OUTCOMES: readonly AttemptOutcome[] = [
  "success",
  "http_status",
  "timeout",
  "connection_refused",
  "connection_reset",
  "dns",
  "tls",
  "blocked",
  "auth",
  "redirect",
  "network",
  "unsupported_destination",
  "broker_rejected",
  "transformation_failed",
  "cancelled",
  "internal",
];

/** Attempt latency buckets, in seconds: loopback receivers to the 30 s default timeout. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const statusClass = (code: number | null): string => (code === null ? "none" : code >= 100 && code < 600 ? `${Math.floor(code / 100)}xx` : "other");

/** One attempt as the metrics count it: `[success, errorKind, statusCode, durationMs]` (cheap to pass between threads). */
export type AttemptSample = [success: boolean, errorKind: AttemptErrorKind | null, statusCode: number | null, durationMs: number];

/** Where a delivery thread's counts go instead (src/delivery-thread-entry.ts): to the main thread's metrics. */
export interface MetricsForward {
  attempt(sample: AttemptSample): void;
  fenced(count: number): void;
}

export interface MetricsOptions {
  /** Figures read at scrape time come from here; without it the queue gauges are left out. */
  store?: Store;
  /** `role` label of `herald_info`. Default: `all`. */
  role?: string;
  /** Adds prom-client's process and Node.js metrics (`process_*`, `nodejs_*`). Default: true. */
  defaultMetrics?: boolean;
}

export class HeraldMetrics {
  readonly registry = new Registry();
  private readonly attempts: Counter<"outcome" | "status_class">;
  private readonly latency: Histogram<"outcome">;
  private readonly published: Counter<"result">;
  private readonly fencedOutcomes: Counter;
  private readonly responses: Counter<"method" | "code">;
  private forwardTo: MetricsForward | null = null;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "herald_info",
      help: "Always 1; the version label names the running Herald.",
      labelNames: ["version", "role"],
      registers,
    }).set({ version: VERSION, role: options.role ?? "all" }, 1);
    new Gauge({
      name: "herald_uptime_seconds",
      help: "Seconds since this process started.",
      registers,
      collect() {
        this.set(process.uptime());
      },
    });
    this.attempts = new Counter({
      name: "herald_attempts_total",
      help: "HTTP delivery attempts made by this process, by outcome (success or the kind of failure) and class of the response status.",
      labelNames: ["outcome", "status_class"],
      registers,
    });
    for (const outcome of ATTEMPT_OUTCOMES) this.attempts.inc({ outcome, status_class: outcome === "success" ? "2xx" : "none" }, 0);
    this.latency = new Histogram({
      name: "herald_attempt_duration_seconds",
      help: "Duration of HTTP delivery attempts made by this process, from the request's start to the end of reading the response.",
      labelNames: ["outcome"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    for (const outcome of ["success", "failure"]) this.latency.zero({ outcome });
    this.published = new Counter({
      name: "herald_messages_published_total",
      help: "Publishes answered by this process: result created (a new message) or duplicate (an idempotency key seen before).",
      labelNames: ["result"],
      registers,
    });
    for (const result of ["created", "duplicate"]) this.published.inc({ result }, 0);
    this.fencedOutcomes = new Counter({
      name: "herald_outcomes_fenced_total",
      help: "Attempt outcomes (and skips) not recorded because this worker no longer held the delivery's lease: another worker took it over (a freeze past the lease), or it was resent, re-queued or deleted meanwhile (docs/guarantees.md).",
      registers,
    });
    this.responses = new Counter({
      name: "herald_http_responses_total",
      help: "HTTP responses sent by this process since it started, by method and status code.",
      labelNames: ["method", "code"],
      registers,
    });
    if (options.store) this.storeGauges(options.store);
  }

  /** Counts one finished attempt (on every attempt: nothing is allocated unless a delivery thread forwards it). */
  attempt(attempt: Pick<Attempt, "success" | "errorKind" | "statusCode" | "durationMs">): void {
    if (this.forwardTo) {
      this.forwardTo.attempt([attempt.success, attempt.errorKind, attempt.statusCode, attempt.durationMs]);
      return;
    }
    this.attempts.inc({ outcome: attemptOutcome(attempt), status_class: statusClass(attempt.statusCode) });
    this.latency.observe({ outcome: attempt.success ? "success" : "failure" }, attempt.durationMs / 1000);
  }

  /** Counts one finished attempt, given as a sample (from a delivery thread). */
  attemptSample([success, errorKind, statusCode, durationMs]: AttemptSample): void {
    this.attempt({ success, errorKind, statusCode, durationMs });
  }

  /** Counts outcomes the store refused because their lease was lost. */
  fenced(count: number): void {
    if (this.forwardTo) {
      this.forwardTo.fenced(count);
      return;
    }
    this.fencedOutcomes.inc(count);
  }

  /**
   * Sends the attempt and fencing counts to `sink` instead of counting them
   * here: a delivery thread's Herald passes them to the process's metrics.
   */
  forward(sink: MetricsForward): void {
    this.forwardTo = sink;
  }

  /** Runs before every scrape (the delivery thread's counts are gathered then). */
  beforeScrape: (() => Promise<void>) | null = null;

  /** Counts one answered publish. */
  publish(created: boolean): void {
    this.published.inc({ result: created ? "created" : "duplicate" });
  }

  /** Counts one HTTP response of the API server. `method` is bounded to the verbs the server routes. */
  response(method: string, statusCode: number): void {
    this.responses.inc({ method: KNOWN_METHODS.has(method) ? method : "other", code: String(statusCode) });
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; text: string }> {
    await this.beforeScrape?.();
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }

  /**
   * Gauges read from the store when scraped: two queries, each on the partial
   * index of pending deliveries. One store read serves the three gauges of a
   * scrape; if it fails, `herald_metrics_store_up` is 0 and the queue gauges
   * keep the values of the last read that worked.
   */
  private storeGauges(store: Store): void {
    const registers = [this.registry];
    let reading: Promise<{ depth: number; nextDue: number | null; now: number } | null> | null = null;
    const read = () => {
      reading ??= Promise.all([store.queueDepth(), store.nextDueAt()])
        .then(([depth, nextDue]) => ({ depth, nextDue, now: Date.now() }))
        .catch(() => null)
        .finally(() => setImmediate(() => (reading = null)));
      return reading;
    };
    new Gauge({
      name: "herald_metrics_store_up",
      help: "1 if reading the store for the queue gauges worked at this scrape, else 0 (and they keep their last values).",
      registers,
      async collect() {
        this.set((await read()) ? 1 : 0);
      },
    });
    new Gauge({
      name: "herald_queue_depth",
      help: "Pending deliveries in the store (waiting, scheduled for a retry, or being attempted), for every Herald process sharing it.",
      registers,
      async collect() {
        const r = await read();
        if (r) this.set(r.depth);
      },
    });
    new Gauge({
      name: "herald_queue_oldest_due_age_seconds",
      help: "How long the longest-waiting due delivery has been due; 0 when nothing is overdue. Rising means the workers are falling behind.",
      registers,
      async collect() {
        const r = await read();
        if (r) this.set(r.nextDue === null ? 0 : Math.max(0, r.now - r.nextDue) / 1000);
      },
    });
  }
}

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);
