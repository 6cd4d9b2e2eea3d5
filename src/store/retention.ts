import type { Logger } from "pino";
import type { IdPrefix } from "../core/ids.js";
import type { Store } from "./store.js";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * The smallest possible id of a kind created at `ms`: every id of that kind
 * created earlier sorts below it, so "older than" is a primary-key range.
 */
export function idFloor(prefix: IdPrefix, ms: number): string {
  let t = Math.max(0, Math.floor(ms));
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}`;
}

export interface RetentionOptions {
  store: Store;
  logger: Logger;
  /** Age past which attempts, operational events and finished messages are deleted. */
  maxAgeMs: number;
  /** Pause between passes. Default: 5 minutes. */
  intervalMs?: number;
  /** Rows of each kind per transaction. Default: 500. */
  batch?: number;
  /** Pause between two batches of one pass, so deletes never hold the database for long. Default: 20 ms. */
  pauseMs?: number;
}

/**
 * Deletes old history in small batches on a timer (`HERALD_RETENTION`). Each
 * batch is one short transaction; between batches the event loop and the
 * database serve delivery first. Start and stop are idempotent.
 */
export class Retention {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: RetentionOptions) {}

  start(): void {
    if (this.timer || this.stopped) return;
    const tick = () => {
      if (this.running || this.stopped) return; // a long pass is still going: skip this turn
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    };
    // The first pass soon after start, then on the interval.
    this.timer = setInterval(tick, this.options.intervalMs ?? 300_000);
    this.timer.unref();
    setTimeout(tick, 1000).unref();
  }

  /** Deletes everything older than the configured age, batch by batch; returns the rows deleted. */
  async runOnce(now = Date.now()): Promise<number> {
    const { store, maxAgeMs, batch = 500, pauseMs = 20 } = this.options;
    let total = 0;
    for (;;) {
      const n = await store.purge(now - maxAgeMs, batch);
      total += n;
      if (n === 0 || this.stopped) return total;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }

  private async pass(): Promise<void> {
    try {
      const n = await this.runOnce();
      if (n > 0) this.options.logger.info({ rows: n, maxAgeMs: this.options.maxAgeMs }, "retention: deleted old history");
    } catch (err) {
      this.options.logger.warn({ err }, "retention pass failed; trying again at the next one");
    }
  }

  /** Stops the timer and waits for the batch in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
