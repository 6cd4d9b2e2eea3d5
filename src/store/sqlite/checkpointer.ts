import { Worker } from "node:worker_threads";

/**
 * Checkpoints the WAL from a thread of its own (`checkpoint-worker.mjs`), so
 * the event loop never stalls on copying pages into the database file and
 * syncing it. The store's own connections keep a high `wal_autocheckpoint` as
 * a backstop: if this thread fell behind (or died), a connection would
 * checkpoint itself once the WAL passed that bound, as SQLite does by default.
 */
export class Checkpointer {
  private worker: Worker | null = null;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly intervalMs = 100,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  /** Starts the thread on first use (a store that never writes much never starts one). */
  start(): void {
    if (this.worker || this.closed) return;
    const worker = new Worker(new URL("./checkpoint-worker.mjs", import.meta.url), {
      workerData: { path: this.path, intervalMs: this.intervalMs },
    });
    worker.on("message", (m: { error?: string }) => {
      if (m.error) this.onError(m.error);
    });
    worker.on("error", (err) => this.onError(err.message));
    worker.unref();
    this.worker = worker;
  }

  /** Stops the thread and waits for it to close its connection. */
  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage("close");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    await worker.terminate();
  }
}
