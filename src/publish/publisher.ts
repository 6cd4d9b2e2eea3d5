import { type Attributes, type Span, SpanKind, type Tracer } from "@opentelemetry/api";
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
  /**
   * Called after a commit that left deliveries for a claim (wakes the dispatcher): not when the
   * batch wrote none (messages to no endpoint) or the lease took every one of them, since then the
   * claim would find nothing of it.
   */
  onCommitted?: () => void;
  /** Called for every publish answered (metrics): `created` is false for a repeated idempotency key. Must not throw. */
  onPublished?: (created: boolean) => void;
  /**
   * Admission control: while this many messages, or this many bytes of
   * payload (counted as characters of JSON), wait for a write (the database is slower than the publishes
   * coming in), a new publish is refused at once with `overloaded` (503,
   * `Retry-After: 1`) instead of waiting in memory without bound. Defaults:
   * 20,000 messages, 64 MiB. One publish (or bulk publish) is always admitted
   * when nothing waits.
   */
  maxWaiting?: { messages?: number; bytes?: number };
  /** Where `herald publish` spans go. Default: the global OpenTelemetry provider (a no-op unless an SDK is registered). */
  tracer?: Tracer;
  logger?: Logger;
}

interface Pending {
  kind?: undefined;
  request: PublishRequest;
  resolve: (r: { message: Message; created: boolean }) => void;
  reject: (err: unknown) => void;
  /** `herald publish`, ended when the commit answers. */
  span: Span;
}

/** A bulk publish: its messages written in one transaction of their own, all or nothing. */
interface PendingBatch {
  kind: "batch";
  requests: PublishRequest[];
  resolve: (r: { message: Message; created: boolean }[]) => void;
  reject: (err: unknown) => void;
  /** One `herald publish` span for the whole batch. */
  span: Span;
}

/**
 * Group commit: publishes that arrive together (within one turn of the event
 * loop, or up to `maxBatch`) are written in one transaction and answered
 * together after it commits. Every caller still gets its answer only after its
 * message is durable; the fsync is simply shared (design notes: ~6x).
 */
export class GroupCommitPublisher implements Publisher {
  private queue: (Pending | PendingBatch)[] = [];
  private scheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private writing = false;
  private closed = false;
  private readonly maxBatch: number;
  private readonly tracer: Tracer;
  /** Messages, and bytes of payload, in `queue` (not yet taken by a write). */
  private waiting = { messages: 0, bytes: 0 };
  private readonly maxWaiting: { messages: number; bytes: number };

  constructor(
    private readonly store: Store,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.tracer = options.tracer ?? heraldTracer();
    this.maxWaiting = { messages: options.maxWaiting?.messages ?? 20_000, bytes: options.maxWaiting?.bytes ?? 64 * 1024 * 1024 };
  }

  /** Why a publish of `messages` messages and `bytes` of payload is refused now (too much already waits: see `maxWaiting`), if it is. */
  private refusal(messages: number, bytes: number): HeraldError | undefined {
    const { waiting, maxWaiting } = this;
    if (waiting.messages === 0) return undefined;
    if (waiting.messages + messages <= maxWaiting.messages && waiting.bytes + bytes <= maxWaiting.bytes) return undefined;
    return new HeraldError(
      "overloaded",
      `${waiting.messages} messages are already waiting to be written (the database is slower than the publishes coming in); retry in a moment`,
    );
  }

  publish(input: PublishInput): Promise<{ message: Message; created: boolean }> {
    if (this.closed) return Promise.reject(new HeraldError("internal_error", "publisher is closed"));
    const refused = this.refusal(1, input.payload.length);
    if (refused) return Promise.reject(refused);
    const now = Date.now();
    const message = newMessage(input, now);
    const { span, traceContext } = this.startSpan(input.traceparent, now, {
      "messaging.destination.name": input.eventType,
      "messaging.message.id": message.id,
      "herald.app.id": input.appId,
    });
    if (traceContext) message.traceContext = traceContext;
    return new Promise((resolve, reject) => {
      const request: PublishRequest = input.only ? { message, only: input.only } : { message };
      this.enqueue({ request, resolve, reject, span });
    });
  }

  /**
   * Publishes many messages in one transaction of their own (not mixed with
   * other publishes): all are stored, in order, or none is. Answers in input
   * order; a repeated idempotency key answers the stored message, or the first
   * of the batch with that key. One `herald publish` span covers the batch
   * (`traceparent`: the producer's trace) and is every message's parent.
   */
  publishBatch(inputs: readonly PublishInput[], options: { traceparent?: string } = {}): Promise<{ message: Message; created: boolean }[]> {
    if (this.closed) return Promise.reject(new HeraldError("internal_error", "publisher is closed"));
    if (inputs.length === 0) return Promise.resolve([]);
    let bytes = 0;
    for (const input of inputs) bytes += input.payload.length;
    const refused = this.refusal(inputs.length, bytes);
    if (refused) return Promise.reject(refused);
    const now = Date.now();
    const { span, traceContext } = this.startSpan(options.traceparent, now, {
      "messaging.batch.message_count": inputs.length,
      "herald.app.id": inputs[0]!.appId,
    });
    const requests = inputs.map((input): PublishRequest => {
      const message = newMessage(input, now);
      if (traceContext) message.traceContext = traceContext;
      return input.only ? { message, only: input.only } : { message };
    });
    return new Promise((resolve, reject) => this.enqueue({ kind: "batch", requests, resolve, reject, span }));
  }

  /**
   * Starts a `herald publish` span (`traceparent`: the producer's trace) with
   * `attributes`. The span lasts until the group commit answers; `traceContext`
   * is stored with the message(s), so each attempt's span is its child, in whatever process.
   */
  private startSpan(traceparent: string | undefined, now: number, attributes: Attributes): { span: Span; traceContext: string | null } {
    const parent = publishParent(traceparent);
    const span = this.tracer.startSpan("herald publish", { kind: SpanKind.PRODUCER, startTime: now }, parent);
    if (span.isRecording()) span.setAttributes({ "messaging.system": "herald", "messaging.operation.type": "publish", ...attributes });
    return { span, traceContext: ownTraceparent(span, parent) };
  }

  private enqueue(entry: Pending | PendingBatch): void {
    this.queue.push(entry);
    this.count(entry, 1);
    if (this.queue.length >= this.maxBatch || entry.kind === "batch") this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
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
    this.writing = true;
    const first = this.queue[0]!;
    let writing: Promise<void>;
    if (first.kind === "batch") {
      this.queue.shift();
      this.count(first, -1);
      writing = this.writeBatch(first);
    } else {
      // Single publishes up to the next bulk one, which gets a transaction of its own.
      let n = 0;
      while (n < this.queue.length && n < this.maxBatch && this.queue[n]!.kind !== "batch") n++;
      const taken = this.queue.splice(0, n) as Pending[];
      for (const p of taken) this.count(p, -1);
      writing = this.write(taken);
    }
    this.flushing = writing.finally(() => {
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
      this.published(r.created);
      p.resolve({ message: r.message, created: r.created });
    }
  }

  private async writeBatch(b: PendingBatch): Promise<void> {
    let results: PublishResult[];
    try {
      results = await this.commit(b.requests);
    } catch (err) {
      // All or nothing: the transaction rolled back, and nothing is retried one by one.
      endWithError(b.span, err);
      b.reject(err);
      return;
    }
    let created = 0;
    for (const r of results) {
      if (r.created) created++;
      this.published(r.created);
    }
    if (b.span.isRecording()) b.span.setAttributes({ "herald.publish.created": created, "herald.publish.batch_size": results.length });
    b.span.end();
    b.resolve(results.map((r) => ({ message: r.message, created: r.created })));
  }

  /** Adds (`sign` 1) or removes (-1) an entry's messages and payload bytes to what waits. */
  private count(entry: Pending | PendingBatch, sign: 1 | -1): void {
    if (entry.kind === "batch") {
      this.waiting.messages += sign * entry.requests.length;
      for (const r of entry.requests) this.waiting.bytes += sign * r.message.payload.length;
    } else {
      this.waiting.messages += sign;
      this.waiting.bytes += sign * entry.request.message.payload.length;
    }
  }

  /** Tells `onPublished` (metrics); a listener that throws is logged, never fails the publish. */
  private published(created: boolean): void {
    try {
      this.options.onPublished?.(created);
    } catch (err) {
      this.options.logger?.error({ err }, "a publish listener threw");
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
    // Wakes the workers only for what a claim would find: not for messages to no
    // endpoint, nor for deliveries the lease already put in the dispatcher's hands.
    if (results.some((r) => r.queued > 0)) this.options.onCommitted?.();
    return results;
  }

  /** Waits for queued publishes to commit, then refuses new ones. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.flush();
    while (this.writing || this.queue.length > 0) await this.flushing;
  }
}

function newMessage(input: PublishInput, now: number): Message {
  return {
    id: newId("msg", now),
    appId: input.appId,
    eventType: input.eventType,
    eventId: input.eventId,
    payload: input.payload,
    channels: input.channels,
    createdAt: now,
  };
}
