import { type Span, SpanKind, type Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import type { Publisher, PublishInput } from "./types.js";
import { HeraldError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { Message } from "../store/model.js";
import type { DeliveryJob, PublishOptions, PublishRequest, PublishResult, Store } from "../store/store.js";
import { storeUnavailable } from "../store/unavailable.js";
import { endWithError, heraldTracer, ownTraceparent, publishParent } from "../observability/tracing.js";

/** A lease for the dispatcher of the publishing process: the store's (owner, deadline, how many) and what it read before. */
export interface LocalLease extends NonNullable<PublishOptions["lease"]> {
  /** `Store.changeEpoch()` read before the publish: what the dispatcher compares before sending. */
  epoch: number;
}

export interface GroupCommitOptions {
  /** Most publishes written in one transaction. Default: 256. */
  maxBatch?: number;
  /** Delay before the first attempt (first entry of the retry schedule). Default: 0. */
  firstDelayMs?: number;
  /** Asks the local dispatcher for a lease so fresh deliveries skip the claim. */
  lease?: (now: number) => LocalLease | undefined;
  /** Receives the leased jobs of each committed batch, with the lease they were written under. */
  onJobs?: (jobs: DeliveryJob[], lease: LocalLease) => void;
  /** Called after every commit (wakes a dispatcher that got no jobs in memory). */
  onCommitted?: () => void;
  /** Called for every publish answered (metrics): `created` is false for a repeated idempotency key. Must not throw. */
  onPublished?: (created: boolean) => void;
  /** Where `herald publish` spans go. Default: the global OpenTelemetry provider (a no-op unless an SDK is registered). */
  tracer?: Tracer;
  logger?: Logger;
}

interface Pending {
  request: PublishRequest;
  resolve: (r: { message: Message; created: boolean }) => void;
  reject: (err: unknown) => void;
  /** `herald publish`, ended when the commit answers. */
  span: Span;
}

/**
 * Group commit: publishes that arrive together (within one turn of the event
 * loop, or up to `maxBatch`) are written in one transaction and answered
 * together after it commits. Every caller still gets its answer only after its
 * message is durable; the fsync is simply shared (design notes: ~6x).
 */
export class GroupCommitPublisher implements Publisher {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private writing = false;
  private closed = false;
  private readonly maxBatch: number;
  private readonly tracer: Tracer;

  constructor(
    private readonly store: Store,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.tracer = options.tracer ?? heraldTracer();
  }

  publish(input: PublishInput): Promise<{ message: Message; created: boolean }> {
    if (this.closed) return Promise.reject(new HeraldError("internal_error", "publisher is closed"));
    const now = Date.now();
    const message: Message = {
      id: newId("msg", now),
      appId: input.appId,
      eventType: input.eventType,
      eventId: input.eventId,
      payload: input.payload,
      channels: input.channels,
      createdAt: now,
    };
    // The span lasts until the group commit answers; its context is stored with
    // the message, so each attempt's span is its child, in whatever process.
    const parent = publishParent(input.traceparent);
    const span = this.tracer.startSpan("herald publish", { kind: SpanKind.PRODUCER, startTime: now }, parent);
    if (span.isRecording()) {
      span.setAttributes({
        "messaging.system": "herald",
        "messaging.operation.type": "publish",
        "messaging.destination.name": input.eventType,
        "messaging.message.id": message.id,
        "herald.app.id": input.appId,
      });
    }
    const traceContext = ownTraceparent(span, parent);
    if (traceContext) message.traceContext = traceContext;
    return new Promise((resolve, reject) => {
      const request: PublishRequest = input.only ? { message, only: input.only } : { message };
      this.queue.push({ request, resolve, reject, span });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Writes what is queued; later publishes wait for the next batch. One batch
   * is written at a time, and what arrives meanwhile joins the next one: with
   * an asynchronous store (PostgreSQL), publishes trickle in during a commit,
   * and that is exactly when they should gather.
   */
  private flush(): void {
    this.scheduled = false;
    if (this.writing || this.queue.length === 0) return; // the write in progress flushes again when done
    const batch = this.queue.splice(0, this.maxBatch);
    this.writing = true;
    this.flushing = this.write(batch).finally(() => {
      this.writing = false;
      this.flush();
    });
  }

  private async write(batch: Pending[]): Promise<void> {
    let results: PublishResult[];
    try {
      results = await this.commit(batch.map((p) => p.request));
    } catch (err) {
      // A lost database connection fails every request alike, and the commit
      // may even have happened before the answer was lost: no retries here
      // (each publish is answered 503; a retry with its Idempotency-Key is safe).
      if (batch.length === 1 || storeUnavailable(err)) {
        for (const p of batch) {
          endWithError(p.span, err);
          p.reject(err);
        }
        return;
      }
      // One bad request (its application deleted meanwhile, say) must not fail
      // the others: write them one by one to find it.
      for (const p of batch) await this.write([p]);
      return;
    }
    for (const [i, r] of results.entries()) {
      const p = batch[i]!;
      if (p.span.isRecording()) {
        p.span.setAttributes({ "herald.publish.created": r.created, "herald.publish.batch_size": batch.length, "herald.deliveries.leased": r.jobs.length });
        if (!r.created) p.span.setAttribute("messaging.message.id", r.message.id); // the first message, answered again
      }
      p.span.end();
      try {
        this.options.onPublished?.(r.created);
      } catch (err) {
        this.options.logger?.error({ err }, "a publish listener threw");
      }
      p.resolve({ message: r.message, created: r.created });
    }
  }

  private async commit(requests: PublishRequest[]): Promise<PublishResult[]> {
    const now = Date.now();
    const lease = this.options.lease?.(now);
    const options: PublishOptions = { now, firstDelayMs: this.options.firstDelayMs ?? 0 };
    if (lease) options.lease = lease;
    const results = await this.store.publish(requests, options);
    const jobs = results.flatMap((r) => r.jobs);
    if (jobs.length > 0 && lease) this.options.onJobs?.(jobs, lease);
    this.options.onCommitted?.();
    return results;
  }

  /** Waits for queued publishes to commit, then refuses new ones. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    while (this.writing || this.queue.length > 0) await this.flushing;
  }
}
