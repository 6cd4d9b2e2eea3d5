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

/** How often a worker looks for leases left by dead workers (beyond its start). */
const REAP_INTERVAL_MS = 5_000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;

/**
 * Makes due now every lease held by a worker that is gone, and wakes the
 * workers. Leases of live workers, and any that already ran out, are left alone.
 */
export async function releaseOrphanedLeases(db: PgDb, now: number, self?: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    `WITH live AS MATERIALIZED (
       SELECT objid FROM pg_locks
       WHERE locktype = 'advisory' AND granted AND classid = $2::int::oid AND objsubid = 2
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())),
     r AS (
       UPDATE deliveries SET next_attempt_at = $1, lease_owner = NULL, updated_at = $1
       WHERE lease_owner IS NOT NULL AND status = 'pending'
         AND lease_owner IS DISTINCT FROM $3 AND hashtext(lease_owner)::oid NOT IN (SELECT objid FROM live)
       RETURNING 1),
     n AS (SELECT count(*)::int AS n FROM r)
     SELECT n.n, CASE WHEN n.n > 0 THEN pg_notify('${DUE_CHANNEL}', current_schema()) END AS notified FROM n`,
    [now, PRESENCE, self ?? null],
  );
  return row?.n ?? 0;
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
    });
    await client.connect();
    try {
      await client.query("SELECT pg_advisory_lock($1::int, hashtext($2))", [PRESENCE, this.owner]);
      await client.query(`LISTEN ${DUE_CHANNEL}`);
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
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(async () => {
      this.reconnectTimer = null;
      try {
        await this.connect();
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
    await client?.end().catch(() => {});
  }
}
