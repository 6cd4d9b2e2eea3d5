import { randomBytes } from "node:crypto";
import pg from "pg";
import { openPostgresStore, type PostgresStore } from "../../src/store/postgres/index.js";

/**
 * PostgreSQL for tests: `HERALD_TEST_POSTGRES_URL` (default the machine's
 * server), one fresh schema per test, dropped afterwards. Where the server is
 * not reachable, PostgreSQL tests skip with a loud message, unless
 * `HERALD_REQUIRE_POSTGRES=1` (CI), which turns that into a failure.
 */
export const POSTGRES_URL = process.env.HERALD_TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/postgres";
export const REQUIRE_POSTGRES = process.env.HERALD_REQUIRE_POSTGRES === "1";

/** Which store `openTestHerald` uses: `HERALD_TEST_STORE=postgres` reruns the delivery suite on PostgreSQL. */
export const TEST_STORE: "sqlite" | "postgres" = process.env.HERALD_TEST_STORE === "postgres" ? "postgres" : "sqlite";

let availability: Promise<boolean> | undefined;

/** Whether the test server answers (asked once per test file). */
export function postgresAvailable(): Promise<boolean> {
  availability ??= (async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    try {
      await client.connect();
      await client.query("SELECT 1");
      return true;
    } catch (err) {
      const why = `PostgreSQL at ${POSTGRES_URL} is not reachable (${(err as Error).message})`;
      if (REQUIRE_POSTGRES || TEST_STORE === "postgres") throw new Error(`${why}, and HERALD_REQUIRE_POSTGRES=1 or HERALD_TEST_STORE=postgres requires it`);
      console.warn(`\n${"!".repeat(78)}\n!! SKIPPING PostgreSQL tests: ${why}.\n!! Set HERALD_TEST_POSTGRES_URL, or HERALD_REQUIRE_POSTGRES=1 to make this a failure.\n${"!".repeat(78)}\n`);
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return availability;
}

/** `url` with `?schema=` set (Herald's own URL parameter). */
export function withSchema(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("schema", schema);
  return u.toString();
}

export interface TestSchema {
  schema: string;
  /** A `HERALD_DATABASE_URL` for this schema. */
  url: string;
  /** Runs SQL with the schema on the search path. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** Rows as the SQLite driver gives them: BIGINT as numbers, booleans as 1/0 (tests compare one shape). */
const sqliteShapes = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === 20 ? Number : oid === 16 ? (v: string) => (v === "t" ? 1 : 0) : pg.types.getTypeParser(oid, format),
} as pg.CustomTypesConfig;

/** A fresh, uniquely named schema (created by Herald's migrations); `drop()` removes it with everything in it. */
export function freshSchema(): TestSchema {
  const schema = `herald_test_${randomBytes(6).toString("hex")}`;
  const run = async <R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> => {
    const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema}`, types: sqliteShapes });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  };
  return {
    schema,
    url: withSchema(POSTGRES_URL, schema),
    query: run,
    drop: async () => {
      await run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/** A store on a fresh schema with Herald's migrations applied; `close()` closes the store and drops the schema. */
export async function freshPostgresStore(): Promise<{ schema: TestSchema; store: PostgresStore; close: () => Promise<void> }> {
  const schema = freshSchema();
  const store = openPostgresStore(schema.url);
  await store.migrate();
  return {
    schema,
    store,
    close: async () => {
      await store.close();
      await schema.drop();
    },
  };
}
