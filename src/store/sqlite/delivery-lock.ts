import { hostname } from "node:os";
import Database from "better-sqlite3";
import { HeraldError } from "../../core/errors.js";
import { getSetting, setSetting } from "./catalog.js";
import type { Db } from "./db.js";

/** Where the holder of the lock is named, for the refusal message of the next one. */
const HOLDER_SETTING = "sqlite_delivering_process";

/**
 * One delivering process per SQLite file, enforced. A delivering process
 * takes back every lease it finds at start (whatever is leased was leased by
 * a previous run that is gone), so a second one would take the first one's
 * work and send it twice. The lock is an exclusive lock on a side file,
 * `<database>-delivery.lock`: a small SQLite database held in exclusive
 * locking mode for as long as the process delivers. The operating system
 * drops it when the process ends, however it ends (kill -9 included), so a
 * restart never waits for a stale lock to expire. Processes that only serve
 * the API (`HERALD_ROLE=api`) and outbox writers take no lock.
 *
 * @returns a function that releases the lock (idempotent).
 */
export function acquireDeliveryLock(db: Db, path: string, owner: string): () => void {
  const lockPath = `${path}-delivery.lock`;
  // A short wait covers a process handing over (a graceful stop and a start).
  const lock = new Database(lockPath, { timeout: 1000 });
  try {
    lock.pragma("locking_mode = EXCLUSIVE");
    // In exclusive locking mode the first write takes the lock, and the
    // connection keeps it until it closes.
    lock.exec("CREATE TABLE IF NOT EXISTS holder (owner TEXT NOT NULL); DELETE FROM holder;");
    lock.prepare("INSERT INTO holder (owner) VALUES (?)").run(owner);
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code !== "SQLITE_BUSY") throw err;
    const holder = describeHolder(db);
    throw new HeraldError(
      "conflict",
      `another Herald process is already delivering from ${path}${holder}; SQLite allows one delivering process per file ` +
        "(run more API processes with HERALD_ROLE=api, or use PostgreSQL to scale out delivery)",
    );
  }
  setSetting(db, HOLDER_SETTING, JSON.stringify({ owner, host: hostname(), pid: process.pid, since: new Date().toISOString() }));
  let released = false;
  return () => {
    if (released) return;
    released = true;
    lock.close();
  };
}

function describeHolder(db: Db): string {
  try {
    const value = getSetting(db, HOLDER_SETTING);
    if (value === null) return "";
    const h = JSON.parse(value) as { host?: string; pid?: number; since?: string };
    return ` (pid ${h.pid} on ${h.host}, since ${h.since})`;
  } catch {
    return "";
  }
}
