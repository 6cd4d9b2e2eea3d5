import type { Application } from "../model.js";
import type { Db } from "./db.js";
import { getApplication } from "./catalog.js";

/** Most lookups remembered; past it the cache starts over (a bound, not an LRU: the hot set is small). */
const MAX_ENTRIES = 1000;

/**
 * Applications by id or uid, remembered between reads: every publish looks its
 * application up, and on this kind of machine a point read through
 * better-sqlite3 costs 15–60 µs, a quarter of the publish path's time.
 *
 * Valid while nothing else wrote: `PRAGMA data_version` (read at most once per
 * turn of the event loop) moves when any other connection, in this process or
 * another, commits; this store's own application writes clear it at once. A
 * copy is returned, so a caller cannot change what the next one reads.
 */
export class AppCache {
  private readonly apps = new Map<string, Application | null>();
  private version = -1;
  private versionThisTurn: number | undefined;

  constructor(private readonly db: () => Db) {}

  get(idOrUid: string): Application | null {
    const version = this.dataVersion();
    if (version !== this.version) {
      this.apps.clear();
      this.version = version;
    }
    let app = this.apps.get(idOrUid);
    if (app === undefined) {
      app = getApplication(this.db(), idOrUid);
      if (this.apps.size >= MAX_ENTRIES) this.apps.clear();
      this.apps.set(idOrUid, app);
    }
    return app && { ...app, metadata: { ...app.metadata } };
  }

  /** This store changed an application: forget everything (writes are rare). */
  clear(): void {
    this.apps.clear();
  }

  private dataVersion(): number {
    if (this.versionThisTurn === undefined) {
      // A prepared statement (Db caches it): `raw.pragma()` would prepare one at every call.
      this.versionThisTurn = this.db().get<{ data_version: number }>("PRAGMA data_version")?.data_version ?? 0;
      setImmediate(() => {
        this.versionThisTurn = undefined;
      });
    }
    return this.versionThisTurn;
  }
}
