import { closeSync, fdatasync, openSync } from "node:fs";

/**
 * Makes commits of a `synchronous = NORMAL` connection durable without
 * blocking the event loop: `fdatasync` of the WAL file on libuv's thread pool.
 *
 * In WAL mode a commit is the frames `write()`n to the `-wal` file; FULL only
 * adds an fsync of that file before the commit returns, on the calling thread
 * (about 1–2 ms on this kind of disk: 500 single publishes a second would
 * spend the whole event loop waiting). Here the commit returns at once, and
 * the caller awaits `sync()` before answering: one fdatasync of the file
 * flushes every frame written to it so far, whichever connection wrote them,
 * so concurrent callers share it (group commit, the second stage). A frame
 * checkpointed into the database file meanwhile is durable there: SQLite
 * syncs the database file before it reuses the WAL.
 */
export class WalSync {
  private fd: number | null = null;
  /** The sync running now, and the one queued behind it for callers that committed after it started. */
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  /** How many fdatasyncs were started: what sharing them saves shows here (tests, diagnostics). */
  started = 0;

  constructor(private readonly walPath: string) {}

  /** Resolves once everything committed before the call is on disk. */
  sync(): Promise<void> {
    if (!this.running) {
      this.running = this.once().finally(() => {
        this.running = null;
      });
      return this.running;
    }
    // The running sync may have started before this caller's commit: wait for a fresh one.
    this.next ??= this.running
      .catch(() => {})
      .then(() => {
        this.next = null;
        return this.sync();
      });
    return this.next;
  }

  private once(): Promise<void> {
    // The file exists from the first commit on; opened once, kept (SQLite keeps the same file while any connection is open).
    this.fd ??= openSync(this.walPath, "r");
    const fd = this.fd;
    this.started++;
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /** Waits for the syncs under way (their fd must not be closed under them), then closes the file. */
  async close(): Promise<void> {
    await Promise.allSettled([this.running, this.next]);
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
