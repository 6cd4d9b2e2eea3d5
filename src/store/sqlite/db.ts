import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { type AppliedMigration, migrationsOf, planMigrations } from "../sql/migrations.js";

/**
 * A better-sqlite3 handle with a prepared-statement cache. Statements are
 * prepared once per SQL text and reused: preparing is the expensive part.
 */
export class Db {
  readonly raw: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  /**
   * @param durable FULL (true) syncs the WAL on every commit, on the calling
   * thread: catalog and endpoint changes, and the outbox's `transaction`.
   * NORMAL (false) leaves the sync to the next FULL commit or checkpoint: used
   * for queue bookkeeping, where a lost commit only means an attempt is made
   * again (at-least-once), never that a message is lost, and for publishes,
   * which are answered only after `WalSync` has synced the WAL off the event loop.
   */
  constructor(path: string, durable = true) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.raw = new Database(path);
    this.raw.pragma("journal_mode = WAL");
    this.raw.pragma(`synchronous = ${durable ? "FULL" : "NORMAL"}`);
    this.raw.pragma("foreign_keys = ON");
    this.raw.pragma("busy_timeout = 5000");
    this.raw.pragma("cache_size = -32000");
    // Checkpoints run in a thread of their own (checkpointer.ts); this bound
    // (about 40 MiB of WAL) is only the backstop should that thread fall behind.
    this.raw.pragma("wal_autocheckpoint = 10000");
    // Zero the bytes of a row that is deleted or moved within its page (no
    // extra I/O): a secret re-encrypted at start (docs/security.md) leaves no
    // plain-text copy behind in that page, whatever the row's layout.
    this.raw.pragma("secure_delete = FAST");
  }

  stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.stmt(sql).run(...params);
  }

  get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.stmt(sql).get(...params) as T | undefined;
  }

  all<T>(sql: string, ...params: unknown[]): T[] {
    return this.stmt(sql).all(...params) as T[];
  }

  /** Runs `fn` in one IMMEDIATE transaction (takes the write lock up front). */
  tx<T>(fn: () => T): T {
    return this.raw.transaction(fn).immediate();
  }

  /**
   * Applies the pending files of `migrations/` (see `src/store/sql/migrations.ts`),
   * each recorded in `herald_migrations` with its checksum, all in one
   * transaction: a refusal (an applied file edited since, or a migration from a
   * newer Herald) changes nothing.
   */
  migrate(): void {
    const migrations = migrationsOf("sqlite");
    // IMMEDIATE takes the write lock before reading the applied set, so two
    // processes starting at once apply each migration exactly once.
    this.tx(() => {
      this.raw.exec(
        "CREATE TABLE IF NOT EXISTS herald_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL, checksum TEXT)",
      );
      // Databases from before checksums have the table without the column (and
      // rows without a checksum, which planMigrations has recorded below).
      const columns = this.raw.pragma("table_info(herald_migrations)") as { name: string }[];
      if (!columns.some((c) => c.name === "checksum")) this.raw.exec("ALTER TABLE herald_migrations ADD COLUMN checksum TEXT");
      const applied = this.raw.prepare("SELECT id, name, checksum FROM herald_migrations ORDER BY id").all() as AppliedMigration[];
      const { pending, unrecorded } = planMigrations(applied, migrations);
      for (const m of unrecorded) this.raw.prepare("UPDATE herald_migrations SET checksum = ? WHERE id = ?").run(m.checksum, m.id);
      for (const m of pending) {
        this.raw.exec(m.sql);
        this.raw
          .prepare("INSERT INTO herald_migrations (id, name, applied_at, checksum) VALUES (?, ?, ?, ?)")
          .run(m.id, m.name, Date.now(), m.checksum);
      }
    });
  }

  close(): void {
    if (this.raw.open) this.raw.close();
  }
}

/** `json_each(?)` lets one prepared statement take a list of any length. */
export const jsonList = (values: readonly string[]): string => JSON.stringify(values);
