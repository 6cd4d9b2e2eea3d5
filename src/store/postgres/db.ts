import pg from "pg";
import { MIGRATIONS } from "./migrations.js";

/** What runs a query: a pool, one of its clients, or the caller's own client (outbox). */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** Where a PostgreSQL store lives, and how many connections it may use. */
export interface PostgresOptions {
  /** Schema holding Herald's tables; created by `migrate()`. Default: `public`. */
  schema?: string;
  /** Most pooled connections of this process (one more is used for LISTEN by a delivering process). Default: 10. */
  poolSize?: number;
}

const OID = { bool: 16, int8: 20, json: 114, jsonb: 3802 } as const;

/**
 * Rows come back in the shapes SQLite gives (numbers for BIGINT epoch-ms times,
 * 1/0 for booleans, JSON as text), so one set of row mappers serves both
 * stores. BIGINT holds epoch milliseconds and counts, far below 2^53.
 */
const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === OID.int8) return (v: string) => Number(v);
    if (oid === OID.bool) return (v: string) => (v === "t" ? 1 : 0);
    if (oid === OID.json || oid === OID.jsonb) return (v: string) => v;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Splits Herald's own query parameters off a connection URL:
 * `postgres://…/db?schema=herald&pool=20`. The rest goes to the driver as is.
 */
export function parsePostgresUrl(url: string): { connectionString: string; options: PostgresOptions } {
  const parsed = new URL(url);
  const options: PostgresOptions = {};
  const schema = parsed.searchParams.get("schema");
  if (schema) options.schema = schema;
  const pool = parsed.searchParams.get("pool");
  if (pool) {
    if (!/^\d+$/.test(pool) || Number(pool) < 1 || Number(pool) > 1000) {
      throw new TypeError(`HERALD_DATABASE_URL: pool must be an integer from 1 to 1000, got ${JSON.stringify(pool)}`);
    }
    options.poolSize = Number(pool);
  }
  parsed.searchParams.delete("schema");
  parsed.searchParams.delete("pool");
  return { connectionString: parsed.toString(), options };
}

/**
 * The connection pool of one PostgreSQL store. Its connections use the
 * store's schema as `search_path`, so statements name tables unqualified;
 * only the publish statements, which also run on callers' connections
 * (transactional outbox), are schema-qualified.
 */
export class PgDb {
  readonly pool: pg.Pool;
  readonly schema: string;
  /** The schema as a quoted identifier, for qualified statements. */
  readonly qschema: string;

  constructor(
    readonly connectionString: string,
    options: PostgresOptions = {},
  ) {
    this.schema = options.schema ?? "public";
    this.qschema = quoteIdent(this.schema);
    this.pool = new pg.Pool({
      connectionString,
      max: options.poolSize ?? 10,
      options: `-c search_path=${this.qschema.replaceAll(" ", "\\ ")}`,
      types,
    });
    // An idle connection that breaks (server restart) is dropped by the pool;
    // the error surfaces on the next query instead of crashing the process.
    this.pool.on("error", () => {});
  }

  /** A dedicated connection outside the pool (LISTEN, presence lock). */
  client(): pg.Client {
    return new pg.Client({ connectionString: this.connectionString, types });
  }

  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  /**
   * Runs `fn` in one transaction on one pooled connection. `durable: false`
   * skips waiting for the WAL flush at commit: for queue bookkeeping, where a
   * commit lost in a server crash only means an attempt is made again
   * (at-least-once), never that a message is lost. Publishes stay durable.
   */
  async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, options: { durable?: boolean } = {}): Promise<T> {
    const c = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await c.query(options.durable === false ? "BEGIN; SET LOCAL synchronous_commit = off" : "BEGIN");
      const result = await fn(c);
      await c.query("COMMIT");
      return result;
    } catch (err) {
      await c.query("ROLLBACK").catch((e: Error) => {
        broken = e;
      });
      throw err;
    } finally {
      c.release(broken);
    }
  }

  /**
   * Applies pending migrations in one transaction under an advisory lock per
   * schema, so processes starting at once apply each migration exactly once
   * (the second waits, then finds nothing left to do).
   */
  async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`herald:migrate:${this.schema}`]);
      await c.query(`CREATE SCHEMA IF NOT EXISTS ${this.qschema}`);
      await c.query(`SET LOCAL search_path TO ${this.qschema}`);
      await c.query(
        "CREATE TABLE IF NOT EXISTS herald_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
      );
      const applied = new Set((await c.query<{ id: number }>("SELECT id FROM herald_migrations")).rows.map((r) => r.id));
      for (const m of MIGRATIONS) {
        if (applied.has(m.id)) continue;
        await c.query(m.sql);
        await c.query("INSERT INTO herald_migrations (id, name, applied_at) VALUES ($1, $2, $3)", [m.id, m.name, Date.now()]);
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** A `NOTIFY` channel is database-wide; its payload names the schema whose deliveries became due. */
export const DUE_CHANNEL = "herald_due";
