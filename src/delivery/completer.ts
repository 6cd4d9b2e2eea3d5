import type { Logger } from "pino";
import type { Completion, CompletionEffects, Store } from "../store/store.js";

export interface CompleterOptions {
  /** Longest a finished attempt waits before its batch is written. Default: 10 ms. */
  flushIntervalMs?: number;
  /** Completions that trigger a write at once. Default: 1000. */
  maxBatch?: number;
  onEffects?: (effects: CompletionEffects) => void;
  /** After a batch is recorded: the earliest retry it scheduled (ms), if any. */
  onRetry?: (at: number) => void;
}

/**
 * Batches the bookkeeping of finished attempts: attempt rows and delivery
 * transitions of many attempts share one transaction every few milliseconds.
 * A crash before a batch commits means those deliveries are attempted again
 * once their lease runs out (at-least-once), never that they are lost.
 */
export class Completer {
  private buffer: Completion[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private soon = false;
  private readonly flushIntervalMs: number;
  private readonly maxBatch: number;

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: CompleterOptions = {},
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 10;
    this.maxBatch = options.maxBatch ?? 1000;
  }

  add(completion: Completion): void {
    this.buffer.push(completion);
    if (this.buffer.length >= this.maxBatch) void this.flush();
    else if (completion.fifo) this.flushSoon();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs);
  }

  /**
   * A FIFO endpoint's next message waits for this completion to be recorded:
   * it is written as soon as the write in progress (if any) is done, with
   * whatever else finished meanwhile, rather than after the batching delay.
   */
  private flushSoon(): void {
    if (this.soon) return;
    this.soon = true;
    void this.writing.then(() => {
      this.soon = false;
      return this.flush();
    });
  }

  /** Writes everything buffered so far; resolves when it is committed. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length === 0) return this.writing;
    const batch = this.buffer;
    this.buffer = [];
    // Batches are written one after another, in order: a delivery's later
    // transition never lands before its earlier one.
    this.writing = this.writing.then(() => this.write(batch));
    return this.writing;
  }

  private async write(batch: Completion[]): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        const effects = await this.store.complete(batch, Date.now());
        if (effects.disabled.length > 0 || effects.fenced.length > 0 || effects.promoted) this.options.onEffects?.(effects);
        if (this.options.onRetry) {
          let at = Number.POSITIVE_INFINITY;
          for (const c of batch) if (c.status === "pending" && c.nextAttemptAt !== null && c.nextAttemptAt < at) at = c.nextAttemptAt;
          if (at !== Number.POSITIVE_INFINITY) this.options.onRetry(at);
        }
        return;
      } catch (err) {
        // The leases still protect these deliveries: if the store stays down,
        // they become due again and are re-attempted.
        this.logger.error({ err, batch: batch.length, tries }, "could not record attempts; retrying");
        if (tries >= 5) return;
        await new Promise((r) => setTimeout(r, 100 * tries));
      }
    }
  }
}
