import type { Dispatcher } from "undici";
import type { Deadline } from "../deadline.js";
import { RESPONSE_BODY_LIMIT } from "./destination.js";

/** Bytes read past the kept part before giving up on reusing the connection. */
export const DRAIN_LIMIT = 64 * 1024;

/** An HTTP answer as the attempt log keeps it. */
export interface Answer {
  statusCode: number;
  headers: Record<string, string>;
  /** The first `RESPONSE_BODY_LIMIT` bytes, decoded as UTF-8. */
  body: string;
}

/**
 * One request through undici's `dispatch`, with a handler that keeps only
 * what the attempt log needs. `Dispatcher.request` costs more per attempt than
 * the attempt needs: an async resource, a response stream with its events, an
 * abort listener, headers parsed into an object and then flattened again; at
 * thousands of attempts a second that was a tenth of the delivery profile.
 *
 * What it does, as `request` + a bounded read did before:
 * - resolves once the answer is complete, with its status, its headers (names
 *   lower-cased, repeated ones joined by `, `) and its first 4 KiB;
 * - reads at most 64 KiB more (so the connection can be reused), then cuts
 *   the connection and resolves with what it kept;
 * - once the status arrived, anything that ends the answer early (the
 *   deadline, a reset) resolves with the status and the body so far: the
 *   status decides the attempt;
 * - before that, it rejects with undici's error, or the deadline's reason.
 */
export function exchange(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, deadline: Deadline): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    dispatcher.dispatch(options, new ExchangeHandler(deadline, resolve, reject));
  });
}

class ExchangeHandler implements Dispatcher.DispatchHandler {
  private abort: ((err: Error) => void) | null = null;
  private statusCode = 0;
  private headers: Record<string, string> | null = null;
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  private read = 0;
  private settled = false;

  constructor(
    private readonly deadline: Deadline,
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (err: Error) => void,
  ) {
    deadline.once("abort", this.onDeadline);
  }

  /** The deadline passed: cut the request off (or, not connected yet, as soon as it is: `onConnect`). */
  private readonly onDeadline = (): void => this.abort?.(this.deadline.reason ?? new Error("aborted"));

  onConnect(abort: (err?: Error) => void): void {
    if (this.deadline.aborted) abort(this.deadline.reason);
    else this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null, _resume: () => void, _statusText: string): boolean {
    if (statusCode < 200) return true; // 1xx: the answer is still to come
    this.statusCode = statusCode;
    this.headers = joinHeaders(rawHeaders ?? []);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.kept < RESPONSE_BODY_LIMIT) {
      const room = RESPONSE_BODY_LIMIT - this.kept;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      this.chunks.push(part);
      this.kept += part.length;
    }
    this.read += chunk.length;
    if (this.read - this.kept > DRAIN_LIMIT) {
      // Too much to drain: keep what was read, give the connection up.
      this.answer();
      this.abort?.(new Error("response body over the drain limit"));
      return false;
    }
    return true;
  }

  onComplete(): void {
    this.answer();
  }

  onError(err: Error): void {
    if (this.headers) this.answer();
    else this.fail(err);
  }

  private answer(): void {
    if (this.settled) return;
    this.settled = true;
    this.deadline.removeListener("abort", this.onDeadline);
    const body = this.chunks.length === 1 ? this.chunks[0]!.toString("utf8") : Buffer.concat(this.chunks).toString("utf8");
    this.resolve({ statusCode: this.statusCode, headers: this.headers ?? {}, body });
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.deadline.removeListener("abort", this.onDeadline);
    this.reject(err);
  }
}

/** Lower-cased header names by name as received: receivers repeat the same few, and lower-casing each anew was most of this file's cost. */
const lowerNames = new Map<string, string>();

function lowerName(raw: Buffer | string): string {
  const name = raw.toString("latin1");
  let lower = lowerNames.get(name);
  if (lower === undefined) {
    lower = name.toLowerCase();
    if (lowerNames.size < 512) lowerNames.set(name, lower);
  }
  return lower;
}

/** Raw header pairs as one object: names lower-cased, a repeated header's values joined by `, ` (as the log shows them). */
function joinHeaders(raw: readonly (Buffer | string)[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = lowerName(raw[i]!);
    const value = raw[i + 1]!.toString("latin1");
    if (Object.hasOwn(out, name)) out[name] = `${out[name]}, ${value}`;
    // A receiver's `__proto__` header is a header like any other, not the object's prototype.
    else if (name === "__proto__") Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
    else out[name] = value;
  }
  return out;
}
