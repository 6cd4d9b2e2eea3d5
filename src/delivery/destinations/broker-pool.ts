/**
 * One connection per broker, shared by every attempt to it, closed when idle.
 *
 * Keyed by what a connection is bound to (scheme, host, port, credentials,
 * and the vhost or database where the protocol binds one per connection), so
 * two endpoints on one broker share a connection and two users never do.
 * Opening is shared too: attempts that arrive while a connection is being
 * opened wait for that one. A connection that fails or closes is forgotten at
 * once; the next attempt opens a new one, through the SSRF guard again.
 */
export interface PooledConnection {
  /** Closes it politely; resolves when it is closed (or failed to close: never rejects). */
  close(): Promise<void>;
  /** Drops its socket at once (a broker that does not answer the close). */
  destroy(): void;
}

/** How long `close()` waits for a broker to answer a polite close before dropping the socket. */
const CLOSE_WAIT_MS = 2000;

interface Entry<C> {
  opening: Promise<C>;
  connection: C | undefined;
  /** Attempts using it right now: an entry in use is never idle. */
  inUse: number;
  lastUsed: number;
}

export class BrokerPool<C extends PooledConnection> {
  private readonly entries = new Map<string, Entry<C>>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  /** @param idleMs a connection unused this long is closed. */
  constructor(private readonly idleMs: number) {}

  /**
   * Runs `use` with the connection for `key`, opening it with `open` when
   * there is none. `open` is given `forget`, to call when the connection
   * closes or fails by itself.
   */
  async with<T>(key: string, open: (forget: () => void) => Promise<C>, use: (connection: C) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error("the destination is closed");
    let entry = this.entries.get(key);
    if (!entry) {
      const created: Entry<C> = { opening: undefined as unknown as Promise<C>, connection: undefined, inUse: 0, lastUsed: Date.now() };
      const forget = () => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      };
      created.opening = open(forget).then(
        (connection) => {
          created.connection = connection;
          // Closed meanwhile: nobody else will close it.
          if (this.closed) void connection.close();
          return connection;
        },
        (err: unknown) => {
          forget();
          throw err;
        },
      );
      this.entries.set(key, created);
      entry = created;
      this.startTimer();
    }
    entry.inUse++;
    try {
      return await use(await entry.opening);
    } finally {
      entry.inUse--;
      entry.lastUsed = Date.now();
    }
  }

  /** How many connections are open or opening (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Closes every connection now (with `abort`, drops them without a polite
   * close); later attempts fail. A connection still opening is closed when it
   * opens, without being waited for. Idempotent.
   */
  async close(abort = false): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const open = [...this.entries.values()].flatMap((e) => (e.connection ? [e.connection] : []));
    this.entries.clear();
    await Promise.all(open.map((c) => (abort ? c.destroy() : closeWithin(c, CLOSE_WAIT_MS))));
  }

  private startTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.closeIdle(), Math.max(10, Math.min(this.idleMs / 2, 5000)));
    this.timer.unref();
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const [key, entry] of this.entries) {
      if (entry.inUse === 0 && entry.connection && now - entry.lastUsed >= this.idleMs) {
        this.entries.delete(key);
        void closeWithin(entry.connection, CLOSE_WAIT_MS);
      }
    }
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

async function closeWithin(connection: PooledConnection, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), ms);
  });
  if ((await Promise.race([connection.close(), late])) === "late") connection.destroy();
  clearTimeout(timer);
}
