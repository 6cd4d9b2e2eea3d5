import { Worker } from "node:worker_threads";
import { resolveLimits, type TransformLimits } from "./limits.js";

/** Why a sandbox run failed: a limit, the handler's own exception, or an unusable answer. */
export type SandboxFailure = "timeout" | "memory" | "stack" | "threw" | "invalid" | "unavailable";

export type SandboxOutcome = { ok: true; output: string } | { ok: false; reason: SandboxFailure; message: string };

export interface SandboxRun {
  /** Names the compiled handler kept for reuse: the endpoint and the hash of its code. */
  key: string;
  code: string;
  /** The webhook object, as JSON. */
  input: string;
  /** Keep the compiled handler for the next run with this key. Default: true (false for one-off test runs). */
  cache?: boolean;
}

export interface TransformPoolOptions {
  /** Sandbox threads. Default: 2 (one looping handler holds one of them for its time limit, the other keeps going). */
  threads?: number;
  limits?: Partial<TransformLimits>;
}

/** Extra time past the handler's limit before the thread is stopped from outside: QuickJS's own check should always come first. */
const BACKSTOP_MS = 1000;

interface Job {
  id: number;
  run: SandboxRun;
  resolve: (outcome: SandboxOutcome) => void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  job: Job | null;
  backstop: NodeJS.Timeout | null;
}

/**
 * Runs transformation handlers off the event loop: a few `worker_threads`, each
 * with QuickJS in WebAssembly (`sandbox-worker.mjs`). A job waits for a free
 * thread; a thread runs one handler at a time, so a handler that loops costs one
 * thread its time limit and delays no attempt that has no transformation.
 *
 * The time limit is enforced twice: inside QuickJS (its interrupt handler), and
 * by terminating the thread if no answer came `timeoutMs` + 1 s later (a new
 * thread replaces it). Threads start on first use: a Herald whose endpoints have
 * no transformation starts none. Never throws: every failure is an outcome.
 *
 * @example
 * const pool = new TransformPool({ threads: 2 });
 * const outcome = await pool.run({ key: "ep_1:abc", code, input: JSON.stringify(webhook) });
 * if (!outcome.ok) console.log(outcome.message); // "timed out after 100 ms"
 * await pool.close();
 */
export class TransformPool {
  readonly limits: TransformLimits;
  private readonly size: number;
  private readonly threads: Thread[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: TransformPoolOptions = {}) {
    this.limits = resolveLimits(options.limits);
    this.size = options.threads ?? 2;
    if (!Number.isInteger(this.size) || this.size < 1) throw new TypeError(`threads must be a positive integer, got ${options.threads}`);
  }

  run(run: SandboxRun): Promise<SandboxOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: "unavailable", message: "the transformation sandbox is closed" });
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, run, resolve });
      // All threads at once: a second one must be warm before a handler loops in the first.
      while (this.threads.length < this.size) this.spawn();
      this.pump();
    });
  }

  /** Stops every thread; runs still waiting or running end as `unavailable`. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.resolve(unavailable("the transformation sandbox is closed"));
    await Promise.all(this.threads.splice(0).map((t) => this.retire(t, "the transformation sandbox is closed")));
  }

  private spawn(): Thread {
    const worker = new Worker(new URL("./sandbox-worker.mjs", import.meta.url), {
      workerData: { memoryBytes: this.limits.memoryBytes },
      // The WebAssembly heap is outside these; they bound the thread's own JavaScript.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
    });
    worker.unref();
    const thread: Thread = { worker, ready: false, job: null, backstop: null };
    worker.on("message", (msg: { ready?: true; id?: number } & SandboxOutcome) => {
      if (msg.ready) {
        thread.ready = true;
        this.pump();
        return;
      }
      if (!thread.job || thread.job.id !== msg.id) return;
      const job = thread.job;
      this.finish(thread);
      job.resolve(msg.ok ? { ok: true, output: msg.output } : { ok: false, reason: msg.reason, message: msg.message });
      this.pump();
    });
    worker.on("error", (err) => this.lost(thread, `the sandbox failed: ${err.message}`));
    worker.on("exit", (code) => this.lost(thread, `the sandbox stopped unexpectedly (exit code ${code})`));
    this.threads.push(thread);
    return thread;
  }

  private pump(): void {
    for (const thread of this.threads) {
      if (this.queue.length === 0) return;
      if (!thread.ready || thread.job) continue;
      const job = this.queue.shift()!;
      thread.job = job;
      const { timeoutMs, memoryBytes, stackBytes, maxOutputBytes } = this.limits;
      thread.backstop = setTimeout(() => this.stopLooping(thread), timeoutMs * 2 + BACKSTOP_MS);
      thread.worker.postMessage({ id: job.id, ...job.run, cache: job.run.cache ?? true, timeoutMs, memoryBytes, stackBytes, maxOutputBytes });
    }
  }

  private finish(thread: Thread): void {
    if (thread.backstop) clearTimeout(thread.backstop);
    thread.backstop = null;
    thread.job = null;
  }

  /** QuickJS did not stop the handler in time (a hang in the engine itself): the thread goes, a new one comes. */
  private stopLooping(thread: Thread): void {
    const job = thread.job;
    this.finish(thread);
    this.replace(thread);
    job?.resolve({ ok: false, reason: "timeout", message: `timed out after ${this.limits.timeoutMs} ms (the sandbox thread was stopped)` });
  }

  /** A thread died: its job fails, and a thread that never became ready fails the queue too (it would not start again). */
  private lost(thread: Thread, message: string): void {
    if (!this.threads.includes(thread)) return;
    const job = thread.job;
    const wasReady = thread.ready;
    this.finish(thread);
    this.threads.splice(this.threads.indexOf(thread), 1);
    job?.resolve(unavailable(message));
    if (!wasReady && this.threads.every((t) => !t.ready)) {
      for (const queued of this.queue.splice(0)) queued.resolve(unavailable(message));
      return;
    }
    if (!this.closed) this.spawn();
  }

  private replace(thread: Thread): void {
    const i = this.threads.indexOf(thread);
    if (i < 0) return;
    this.threads.splice(i, 1);
    void this.retire(thread, "");
    if (!this.closed) this.spawn();
  }

  private async retire(thread: Thread, message: string): Promise<void> {
    const job = thread.job;
    this.finish(thread);
    if (job) job.resolve(unavailable(message));
    thread.worker.removeAllListeners("exit");
    thread.worker.removeAllListeners("error");
    thread.worker.on("error", () => {}); // a late error of a thread being stopped is no one's concern
    await thread.worker.terminate();
  }
}

function unavailable(message: string): SandboxOutcome {
  return { ok: false, reason: "unavailable", message };
}
