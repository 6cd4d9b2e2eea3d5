import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { storeUnavailable } from "../../src/store/unavailable.js";
import { tempDir } from "../helpers/herald.js";
import { POSTGRES_URL, postgresAvailable } from "../helpers/postgres.js";
import { openApi, type TestApi } from "./helpers.js";

const pgUp = await postgresAvailable();

/** A real "database is locked" from SQLite: another connection holds the write lock. */
function sqliteBusy(): Error {
  const { dir, cleanup } = tempDir();
  const path = join(dir, "locked.db");
  const holder = new Database(path);
  const other = new Database(path, { timeout: 0 });
  try {
    holder.exec("CREATE TABLE t (x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1)");
    try {
      other.exec("BEGIN IMMEDIATE");
    } catch (err) {
      return err as Error;
    }
    throw new Error("expected SQLITE_BUSY");
  } finally {
    other.close();
    holder.close();
    cleanup();
  }
}

/**
 * A database that goes away for a moment (a restart, a failover, a killed
 * connection) is not a bug: the API answers 503 `store_unavailable` with
 * Retry-After, never an opaque 500 (docs/api.md).
 */
describe("the database unavailable for a moment", () => {
  let api: TestApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it("recognises a SQLite file locked past the busy timeout, and not other failures", () => {
    const busy = sqliteBusy();
    expect((busy as { code?: string }).code).toBe("SQLITE_BUSY");
    expect(storeUnavailable(busy)).toBe(true);
    expect(storeUnavailable(new TypeError("x is undefined"))).toBe(false);
    expect(storeUnavailable(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(storeUnavailable(null)).toBe(false);
  });

  it.skipIf(!pgUp)("recognises a PostgreSQL connection terminated under a query", async () => {
    const victim = new pg.Client({ connectionString: POSTGRES_URL });
    const killer = new pg.Client({ connectionString: POSTGRES_URL });
    victim.on("error", () => {});
    await victim.connect();
    await killer.connect();
    try {
      const pid = (await victim.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      const running = victim.query("SELECT pg_sleep(5)").then(
        () => null,
        (err: unknown) => err,
      );
      await new Promise((r) => setTimeout(r, 100));
      await killer.query("SELECT pg_terminate_backend($1)", [pid]);
      const err = await running;
      expect(err).toBeInstanceOf(Error);
      expect(storeUnavailable(err)).toBe(true);
    } finally {
      await killer.end();
      await victim.end().catch(() => {});
    }
  });

  it("answers a publish that met a locked database with 503 store_unavailable and Retry-After", async () => {
    api = await openApi();
    const app = (await api.call("POST", "/api/v1/applications", { name: "shop" })).body;
    const publish = api.store.publish.bind(api.store);
    const busy = sqliteBusy();
    api.store.publish = async () => {
      throw busy;
    };
    const res = await api.call("POST", `/api/v1/applications/${app.id}/messages`, { eventType: "order.created", payload: { a: 1 } });
    expect(res.status).toBe(503);
    expect(res.headers["content-type"]).toContain("application/problem+json");
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.body).toMatchObject({ status: 503, code: "store_unavailable" });
    expect(res.body.detail).toMatch(/Idempotency-Key/);
    // Back again: the same request goes through.
    api.store.publish = publish;
    expect((await api.call("POST", `/api/v1/applications/${app.id}/messages`, { eventType: "order.created", payload: { a: 1 } })).status).toBe(202);
  });
});
