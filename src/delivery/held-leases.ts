import type { Logger } from "pino";
import type { DeliveryId } from "../core/ids.js";
import type { DeliveryJob, HeldLease, Store } from "../store/store.js";

/** A job a worker holds, and until when its lease runs as far as the worker knows. */
interface Held {
  job: DeliveryJob;
  until: number;
  /** `Store.changeEpoch()` read before the claim (or publish) that loaded the job. */
  epoch: number;
}

/** The lease a job is held under, as the store's lease statements take it. */
export const leaseOf = (job: DeliveryJob): HeldLease => ({ id: job.delivery.id, messageId: job.delivery.messageId, gen: job.lease.gen });

/**
 * The leases one dispatcher holds (queued, waiting or in flight), with the
 * deadline each runs to by this worker's own clock. Renewal moves only what
 * the store still has under the same owner and generation; what it did not
 * move keeps its old deadline, so it runs out here too and is never started.
 * Releases (graceful stop, overflow, work the store could not vouch for) are
 * gathered and written in one fenced statement.
 */
export class HeldLeases {
  private readonly held = new Map<DeliveryId, Held>();
  private toRelease: HeldLease[] = [];

  constructor(
    private readonly store: Store,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly logger: Logger,
    /** Called once released leases are written: that work is due in the store again. */
    private readonly onReleased: () => void = () => {},
  ) {}

  get size(): number {
    return this.held.size;
  }

  /** The deliveries held. */
  ids(): DeliveryId[] {
    return [...this.held.keys()];
  }

  /**
   * Takes a job leased to this worker until `until`. False when the delivery
   * is held already: it was claimed again by this worker (its lease had run
   * out), and the newer lease is the one to complete under.
   */
  take(job: DeliveryJob, until: number, epoch: number): boolean {
    const known = this.held.get(job.delivery.id);
    if (known) {
      known.job.lease = job.lease;
      known.until = until;
      return false;
    }
    this.held.set(job.delivery.id, { job, until, epoch });
    return true;
  }

  /** Forgets a job (its attempt is done, or it was skipped). */
  drop(job: DeliveryJob): void {
    this.held.delete(job.delivery.id);
  }

  /** Forgets a job and gives its lease back (due at once, for any worker) at the next `flush`. */
  release(job: DeliveryJob): void {
    this.held.delete(job.delivery.id);
    this.toRelease.push(leaseOf(job));
  }

  /** Gives back every lease still held (graceful stop). */
  releaseAll(): void {
    for (const h of this.held.values()) this.toRelease.push(leaseOf(h.job));
    this.held.clear();
  }

  /**
   * Whether nothing that could change the job's fate was heard of since it
   * was loaded: no endpoint changed, and (PostgreSQL) this worker's connection
   * was not lost, so no other worker can have taken its lease. Its lease can
   * then only have run out, which `stillHeld` sees; otherwise the store is asked.
   */
  unchangedSince(job: DeliveryJob, epoch: number): boolean {
    const h = this.held.get(job.delivery.id);
    return h !== undefined && epoch !== -1 && h.epoch === epoch;
  }

  /** Whether this worker's lease on the job has not run out by its own clock (nor been replaced). */
  stillHeld(job: DeliveryJob): boolean {
    const h = this.held.get(job.delivery.id);
    return h !== undefined && h.job.lease === job.lease && Date.now() < h.until;
  }

  /** Moves every held lease a whole lease ahead, as far as the store still has it as ours. */
  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const entries = [...this.held.values()];
    const until = Date.now() + this.leaseMs;
    try {
      const extended = new Set(await this.store.extendLeases(this.owner, entries.map((h) => leaseOf(h.job)), until));
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

  /** Writes the gathered releases (fenced: what is no longer ours is left alone). */
  flush(): Promise<void> {
    if (this.toRelease.length === 0) return Promise.resolve();
    const held = this.toRelease;
    this.toRelease = [];
    return this.store.releaseLeases(this.owner, held, Date.now()).then(this.onReleased, (err) => {
      this.logger.warn({ err, count: held.length }, "could not release leases; they will run out");
    });
  }
}
