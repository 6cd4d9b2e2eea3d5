import type pg from "pg";
import { DUE_CHANNEL, type PgDb } from "./db.js";

/**
 * The advisory-lock class of worker presence. A delivering process holds
 * `pg_advisory_lock(PRESENCE, hashtext(owner))` on its LISTEN connection for
 * as long as it lives; PostgreSQL drops the lock the moment that connection
 * closes, which a killed process's kernel does at once. A lease whose owner's
 * lock is free therefore belongs to a dead process and can be taken back
 * without waiting for its deadline. (A hash collision only makes a dead owner
 * look alive: its leases then run out normally.)
 */
const PRESENCE = 0x48524c44; // "HRLD"

/** Announces, at commit, endpoints changed or deleted (migration 5's triggers): `<schema> <endpoint id>`. */
const ENDPOINT_CHANNEL = "herald_endpoint";

/** How often a worker looks for leases left by dead workers (beyond its start). */
const REAP_INTERVAL_MS = 5_000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/**
 * Makes due now every lease held by an attached worker that is gone (its row
 * in `workers` remains, its presence lock does not), forgets those workers,
 * and wakes the others. Live workers' leases are left alone, and so are those
 * of owners that never attached: they run out at their deadline.
 */
export async function releaseOrphanedLeases(db: PgDb, now: number, self?: string): Promise<number> {
  return db.tx(
    async (q) => {
      const { rows: dead } = await q.query<{ owner: string }>(
        `DELETE FROM workers
         WHERE owner IS DISTINCT FROM $2 AND hashtext(owner)::oid NOT IN (
           SELECT objid FROM pg_locks
           WHERE locktype = 'advisory' AND granted AND classid = $1::int::oid AND objsubid = 2
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
         RETURNING owner`,
        [PRESENCE, self ?? null],
      );
      if (dead.length === 0) return 0;
      // Rare (a process died): the leases are the future end of the due index.
      const { rows } = await q.query<{ n: number }>(
        `WITH r AS (
           UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL, updated_at = $1
           WHERE status = 'pending' AND next_attempt_at > $1 AND lease_owner = ANY($2::text[])
           RETURNING 1),
         n AS (SELECT count(*)::int AS n FROM r)
         SELECT n.n, CASE WHEN n.n > 0 THEN pg_notify('${DUE_CHANNEL}', current_schema()) END AS notified FROM n`,
        [now, dead.map((d) => d.owner)],
      );
      return rows[0]?.n ?? 0;
    },
    { queue: true },
  );
}

/**
 * One delivering process's dedicated connection: it holds the presence lock
 * and LISTENs for `herald_due`, calling `onDue` when deliveries of this
 * schema became due (a publish from another process, a resend, released
 * leases). On a lost connection it reconnects with back-off and wakes the
 * worker once, in case a notification was missed meanwhile; the adaptive
 * sleep of the dispatcher covers that gap too.
 */
export class WorkerLink {
  private client: pg.Client | null = null;
  private closed = false;
  private reconnectMs = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reaper: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: PgDb,
    private readonly owner: string,
    private readonly onDue: () => void,
    /** An endpoint changed (NOTIFY `herald_endpoint`), or news of such changes may have been missed (the connection was lost). */
    private readonly onEndpointNews: () => void = () => {},
  ) {}

  /** Connects, takes the presence lock, listens, then takes back what dead workers held. */
  async open(): Promise<void> {
    await this.connect();
    this.reaper = setInterval(() => void this.reap(), REAP_INTERVAL_MS);
    this.reaper.unref();
    await this.reap();
  }

  private async connect(): Promise<void> {
    const client = this.db.client();
    client.on("error", () => this.lost(client));
    client.on("end", () => this.lost(client));
    client.on("notification", (n) => {
      if (n.channel === DUE_CHANNEL && n.payload === this.db.schema) this.onDue();
      else if (n.channel === ENDPOINT_CHANNEL && n.payload?.startsWith(`${this.db.schema} `)) this.onEndpointNews();
    });
    await client.connect();
    try {
      await client.query("SELECT pg_advisory_lock($1::int, hashtext($2))", [PRESENCE, this.owner]);
      // After the lock: nobody may see the row without the lock and take us for dead.
      await client.query("INSERT INTO workers (owner, attached_at) VALUES ($1, $2) ON CONFLICT (owner) DO NOTHING", [this.owner, Date.now()]);
      await client.query(`LISTEN ${DUE_CHANNEL}`);
      await client.query(`LISTEN ${ENDPOINT_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    this.reconnectMs = RECONNECT_MIN_MS;
  }

  private lost(client: pg.Client): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    client.end().catch(() => {});
    // While disconnected this worker hears of no change, and the others may take it for dead.
    this.onEndpointNews();
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      try {
        await this.connect();
        this.onEndpointNews();
        this.onDue();
      } catch {
        this.reconnectMs = Math.min(RECONNECT_MAX_MS, this.reconnectMs * 2);
        this.scheduleReconnect();
      }
    }, this.reconnectMs);
    this.reconnectTimer.unref();
  }

  private async reap(): Promise<void> {
    if (this.closed) return;
    try {
      if ((await releaseOrphanedLeases(this.db, Date.now(), this.owner)) > 0) this.onDue();
    } catch {
      // The next round tries again; the leases also run out on their own.
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reaper) clearInterval(this.reaper);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = null;
    // A clean stop has released its leases already (graceful dispatcher stop).
    await client?.query("DELETE FROM workers WHERE owner = $1", [this.owner]).catch(() => {});
    await client?.end().catch(() => {});
  }
}
