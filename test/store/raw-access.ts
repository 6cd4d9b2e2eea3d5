import Database from "better-sqlite3";
import pg from "pg";
import { POSTGRES_URL, type TestSchema } from "../helpers/postgres.js";
import type { HeldWrite, RawAccess } from "./endpoint-contract.js";

/** Other writers on a SQLite file: each statement on a connection of its own (another process, or the queue's connection). */
export function sqliteRawAccess(path: string): RawAccess {
  return {
    async exec(sql, ...params) {
      const db = new Database(path);
      try {
        db.pragma("busy_timeout = 5000");
        db.prepare(sql).run(...params);
      } finally {
        db.close();
      }
    },
  };
}

const placeholders = (sql: string) => {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
};

/** Other writers on a PostgreSQL test schema, one of which can hold its transaction open. */
export function postgresRawAccess(schema: TestSchema): RawAccess {
  return {
    async exec(sql, ...params) {
      await schema.query(placeholders(sql), params);
    },
    hold: (sql, ...params) => hold(schema, sql, params),
  };
}

/** A statement in a transaction of its own connection, kept open (with its row locks) until `commit()`. */
async function hold(schema: TestSchema, sql: string, params: unknown[]): Promise<HeldWrite> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema.schema}` });
  await client.connect();
  try {
    await client.query("BEGIN");
    await client.query(placeholders(sql), params);
  } catch (err) {
    await client.end();
    throw err;
  }
  return {
    async blocking(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { rows } = await client.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))",
        );
        if (rows[0]!.n > 0) return;
        if (Date.now() > deadline) throw new Error("nobody waits on the held write");
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async commit() {
      try {
        await client.query("COMMIT");
      } finally {
        await client.end();
      }
    },
  };
}
