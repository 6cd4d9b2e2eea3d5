import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { HeraldConfig } from "../../src/config/config.js";
import { newId } from "../../src/core/ids.js";
import { Herald } from "../../src/herald.js";
import type { Application, Endpoint } from "../../src/store/model.js";
import type { NewEndpoint } from "../../src/store/store.js";
import { endpointRow } from "./rows.js";
import { TEST_STORE, freshSchema, postgresAvailable } from "./postgres.js";

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "herald-test-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const silentLogger = () => pino({ level: "silent" });

/**
 * A Herald on a fresh store: a SQLite file in a temp dir, or, when
 * `HERALD_TEST_STORE=postgres`, a fresh schema on the test PostgreSQL (the
 * delivery suite reruns on it that way). `query` reads the store's tables from
 * an independent connection (`?` placeholders, rows in SQLite's shapes), also
 * after the Herald stopped; `close()` stops it and removes the database.
 */
export async function openTestHerald(
  settings: Record<string, string> = {},
  config: Partial<HeraldConfig> = {},
): Promise<{ herald: Herald; dir: string; query: TestDatabase["query"]; close: () => Promise<void> }> {
  const { dir, cleanup } = tempDir();
  const db = await testDatabase(dir);
  let herald: Herald;
  try {
    herald = await Herald.open({
      // Test receivers listen on 127.0.0.1: let the SSRF guard through to loopback unless a test says otherwise.
      settings: { HERALD_DATABASE_URL: db.url, HERALD_PORT: "0", HERALD_ALLOWED_NETWORKS: "127.0.0.0/8,::1/128", ...settings },
      config,
      logger: silentLogger(),
    });
  } catch (err) {
    await db.drop();
    cleanup();
    throw err;
  }
  return {
    herald,
    dir,
    query: db.query,
    close: async () => {
      await herald.stop();
      await db.drop();
      cleanup();
    },
  };
}

export interface TestDatabase {
  /** `HERALD_DATABASE_URL` of the fresh database. */
  url: string;
  /** Reads with `?` placeholders from a connection of its own. */
  query<R = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A fresh database of the kind `HERALD_TEST_STORE` selects: a file in `dir`, or a PostgreSQL schema. */
export async function testDatabase(dir: string): Promise<TestDatabase> {
  if (TEST_STORE === "postgres") {
    await postgresAvailable(); // throws when unreachable: this run asked for PostgreSQL
    const schema = freshSchema();
    return {
      url: schema.url,
      query: async <R>(sql: string, ...params: unknown[]) => {
        let n = 0;
        return (await schema.query(sql.replace(/\?/g, () => `$${++n}`), params)) as R[];
      },
      drop: schema.drop,
    };
  }
  const path = join(dir, "herald.db");
  return {
    url: `sqlite:${path}`,
    query: async <R>(sql: string, ...params: unknown[]) => {
      const { default: Database } = await import("better-sqlite3");
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare(sql).all(...params) as R[];
      } finally {
        db.close();
      }
    },
    drop: async () => {},
  };
}

export async function createApp(herald: Herald, name = "test app"): Promise<Application> {
  const now = Date.now();
  return herald.store.createApplication({ id: newId("app"), uid: null, name, metadata: {}, createdAt: now, updatedAt: now });
}

export async function createEndpoint(herald: Herald, app: Application, url: string, extra: Partial<NewEndpoint> = {}): Promise<Endpoint> {
  return herald.store.createEndpoint(endpointRow(app.id, url, Date.now(), extra));
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or the time runs out. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000, stepMs = 25): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw last instanceof Error ? last : new Error("condition not met in time");
    await sleep(stepMs);
  }
}
