import { type FieldError, HeraldError } from "../core/errors.js";

/**
 * Bulk publish (contract §9): the limits, and the faults of a batch collected
 * at each message's index so that one 422 names every invalid message.
 */

/** Most messages in one bulk publish. */
export const MAX_BATCH_MESSAGES = 1000;

/** A batch carries at most this many times `HERALD_MAX_PAYLOAD_BYTES` of payloads (and of request body). */
export const BATCH_BYTES_FACTOR = 4;

/** At most this many `errors` entries in one 422 (the detail still counts every invalid message). */
const MAX_REPORTED = 100;

/** The faults of a batch, each under `/messages/{index}`. */
export class BatchFaults {
  private readonly errors: FieldError[] = [];
  private readonly invalid = new Set<number>();

  /**
   * Records why message `index` is refused: a `validation_failed`, `too_deep` or
   * `payload_too_large` HeraldError, its paths (`/payload/…`, `/eventType`; `/`
   * for the whole of `field`) moved under `/messages/{index}`. Anything else is rethrown.
   */
  add(index: number, field: string, err: unknown): void {
    if (!(err instanceof HeraldError) || !["validation_failed", "too_deep", "payload_too_large"].includes(err.code)) throw err;
    this.invalid.add(index);
    const base = `/messages/${index}`;
    const entries = err.errors?.length ? err.errors : [{ path: "/", message: err.message }];
    for (const e of entries) {
      if (this.errors.length >= MAX_REPORTED) return;
      const path = e.path === "/" || e.path === "" ? `${base}/${field}` : `${base}${e.path.startsWith("/") ? e.path : `/${e.path}`}`;
      this.errors.push({ path, message: e.message });
    }
  }

  /** Throws one 422 `validation_failed` naming every invalid message, if any. */
  throwIfAny(): void {
    if (this.invalid.size === 0) return;
    const n = this.invalid.size;
    const shown = this.errors.slice(0, 5).map((e) => `${e.path}: ${e.message}`).join("; ");
    throw new HeraldError(
      "validation_failed",
      `${n} message${n === 1 ? "" : "s"} of the batch ${n === 1 ? "is" : "are"} invalid, so none was published: ${shown}${this.errors.length > 5 ? "; …" : ""}`,
      this.errors,
    );
  }
}

/** The 413 for a batch whose payloads (`total` bytes of JSON) add up to more than the limit. */
export function checkBatchSize(total: number, maxPayloadBytes: number): void {
  const limit = maxPayloadBytes * BATCH_BYTES_FACTOR;
  if (total <= limit) return;
  throw new HeraldError(
    "payload_too_large",
    `the batch's payloads are ${total} bytes of JSON in all; the limit is ${limit} (${BATCH_BYTES_FACTOR} × HERALD_MAX_PAYLOAD_BYTES): split it`,
  );
}
