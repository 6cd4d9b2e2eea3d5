import type { DeliveryId } from "../core/ids.js";
import type { DeliveryJob, LeaseCheck, Store } from "../store/store.js";
import { leaseOf } from "./held-leases.js";

/** What the store says of a job right before its attempt. */
export type Verdict =
  /** Still ours, and the endpoint is as the job knows it: go. */
  | { kind: "held" }
  /** Still ours, but the endpoint changed since the job was loaded (URL, secret, status): re-read it. */
  | { kind: "changed"; status: LeaseCheck["endpointStatus"] }
  /** Not ours any more (ran out and was claimed again, resent, re-queued, deleted): drop it. */
  | { kind: "lost" }
  /** The store could not be asked (after a few tries): send nothing, give the lease back if possible. */
  | { kind: "unknown" };

/** Tries of one check before its jobs are given up as `unknown` (a dropped connection is retried on a new one). */
const TRIES = 3;

/**
 * Asks the store, right before attempts start, whether this worker still
 * holds their leases and what their endpoints look like now. Checks asked for
 * during one turn of the event loop share one query, and while a query runs
 * the next ones gather: under load that is one round trip for many attempts.
 *
 * This is what keeps a worker that froze (a GC pause, SIGSTOP, a lost
 * connection) from sending what another worker has taken over, and what stops
 * attempts to an endpoint that was deleted or disabled after its work was
 * claimed. Fencing in `Store.complete` then keeps a late outcome from undoing
 * anything; see docs/guarantees.md.
 */
export class LeaseChecker {
  private pending: { job: DeliveryJob; resolve: (v: Verdict) => void; tries: number }[] = [];
  private scheduled = false;
  private running = false;

  constructor(
    private readonly store: Store,
    private readonly owner: string,
    private readonly onError: (err: unknown, count: number) => void,
  ) {}

  check(job: DeliveryJob): Promise<Verdict> {
    return new Promise((resolve) => {
      this.pending.push({ job, resolve, tries: 0 });
      this.schedule();
    });
  }

  private schedule(delayMs = 0): void {
    if (this.scheduled || this.running || this.pending.length === 0) return;
    this.scheduled = true;
    const go = () => {
      this.scheduled = false;
      void this.flush();
    };
    if (delayMs > 0) setTimeout(go, delayMs);
    else setImmediate(go);
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.running = true;
    try {
      const held = batch.map(({ job }) => leaseOf(job));
      const found = new Map<DeliveryId, LeaseCheck>();
      for (const c of await this.store.checkLeases(this.owner, held, Date.now())) found.set(c.id, c);
      for (const { job, resolve } of batch) {
        const c = found.get(job.delivery.id);
        if (!c) resolve({ kind: "lost" });
        else if (c.endpointUpdatedAt !== job.endpoint.updatedAt || c.endpointStatus !== job.endpoint.status) {
          resolve({ kind: "changed", status: c.endpointStatus });
        } else resolve({ kind: "held" });
      }
    } catch (err) {
      // Unknown is not ours: nothing is sent until the store answers.
      let retried = 0;
      for (const entry of batch) {
        entry.tries++;
        if (entry.tries < TRIES) {
          this.pending.push(entry);
          retried++;
        } else entry.resolve({ kind: "unknown" });
      }
      if (retried < batch.length) this.onError(err, batch.length - retried);
      this.running = false;
      this.schedule(100);
      return;
    }
    this.running = false;
    this.schedule();
  }
}
