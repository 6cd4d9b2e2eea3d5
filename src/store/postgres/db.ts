import pg from "pg";
import { ConfigError } from "../../core/errors.js";
import { type AppliedMigration, migrationsOf, planMigrations } from "../sql/migrations.js";

/** What runs Herald's statements: one of the store's pools or connections, or (outbox) the caller's client. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** Where a PostgreSQL store lives, and how many connections it may use. */
export interface PostgresOptions {
  /** Schema holding Herald's tables; created by `migrate()`. Default: `public`. */
  schema?: string;
  /**
   * Connections of the main pool (publishes, the API). The queue pool adds up to
   * 4, the claim pool 2, and a delivering process one more for LISTEN. Default: 10.
   */
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

/**
 * Statement names by text, so that each connection parses and plans a
 * statement once and then only binds and executes it (as better-sqlite3's
 * prepared statements do for SQLite): measured, 15 % less of the server's CPU
 * in the benchmark's burst. One name per text, for every pool, so a name
 * never meets two texts on one connection. Statements without parameters
 * (BEGIN, multi-statement strings) go as simple queries.
 */
const statementNames = new Map<string, string>();

function prepared(text: string, values?: unknown[]): pg.QueryConfig | string {
  if (!values || values.length === 0) return text;
  let name = statementNames.get(text);
  if (!name) {
    name = `herald_${statementNames.size + 1}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

const preparing = (c: pg.ClientBase | pg.Pool): Queryable => ({
  query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => c.query<R>(prepared(text, values) as pg.QueryConfig),
});

export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Splits Herald's own query parameters off a connection URL:
 * `postgres://…/db?schema=herald&pool=20`. The rest goes to the driver as is.
 */
export function parsePostgresUrl(url: string): { connectionString: string; options: PostgresOptions } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError("HERALD_DATABASE_URL: expected postgres://user:password@host:port/database, got an invalid URL");
  }
  const options: PostgresOptions = {};
  const schema = parsed.searchParams.get("schema");
  if (schema) options.schema = schema;
  const pool = parsed.searchParams.get("pool");
  if (pool) {
    if (!/^\d+$/.test(pool) || Number(pool) < 1 || Number(pool) > 1000) {
      throw new ConfigError(`HERALD_DATABASE_URL: pool must be an integer from 1 to 1000, got ${JSON.stringify(pool)}`);
    }
    options.poolSize = Number(pool);
  }
  parsed.searchParams.delete("schema");
  parsed.searchParams.delete("pool");
  return { connectionString: parsed.toString(), options };
}

/**
 * How claims are planned, now that deliveries are partitioned (migration 11).
 * A claim reads each partition's `deliveries_due` index, then joins the rows it
 * picked back to the deliveries, each looked up in its one partition (run-time
 * pruning). The planner does not count that pruning: it prices each lookup
 * once per partition, and preferred hashing every partition whole with a few
 * hundred thousand rows of history (measured: a claim of 64 read 220,000 rows,
 * 60 ms instead of 2), or scanning a new day's partition before it has
 * statistics. And planned afresh each time, a claim over 36 partitions took
 * 6 ms to plan. So the claim's connections, which run nothing else, plan it
 * once (generic plan) and with index paths and nested loops only: the one
 * plan that is right whatever the statistics say.
 */
const CLAIM_PLANNING = [
  "enable_hashjoin=off",
  "enable_mergejoin=off",
  "enable_material=off",
  "enable_seqscan=off",
  "enable_bitmapscan=off",
  "plan_cache_mode=force_generic_plan",
]
  .map((s) => `-c ${s}`)
  .join(" ");

/** Connections that claim: a delivering process runs one claim at a time, the second is for a claim racing a stop. */
const CLAIM_POOL_SIZE = 2;

/** Connections the queue pool may use (claims, completions, lease moves): a worker runs few at once. */
const QUEUE_POOL_SIZE = 4;

/**
 * The connections of one PostgreSQL store: two pools, as the SQLite store has
 * two connections. The main pool commits durably (publishes, the catalog).
 * The queue pool runs claims, completions and lease moves with
 * `synchronous_commit = off`: a commit lost in a server crash only means an
 * attempt is made again (at-least-once), never that a message is lost, and
 * not waiting for the WAL flush keeps those round trips short.
 *
 * Connections use the store's schema as `search_path`, so statements name
 * tables unqualified; only the publish statements, which also run on callers'
 * connections (transactional outbox), are schema-qualified.
 */
export class PgDb {
  readonly pool: pg.Pool;
  readonly queuePool: pg.Pool;
  /** The claim statement only (see `CLAIM_PLANNING`), with the queue pool's commit mode. */
  readonly claimPool: pg.Pool;
  readonly schema: string;
  /** The schema as a quoted identifier, for qualified statements. */
  readonly qschema: string;
  /** Statements on the main pool, prepared (see `prepared`); commits are durable. */
  readonly durable: Queryable;
  private readonly queueing: Queryable;
  private readonly claiming: Queryable;
  private readonly searchPath: string;
  private readonly appName: string | undefined;

  constructor(
    readonly connectionString: string,
    options: PostgresOptions = {},
  ) {
    this.schema = options.schema ?? "public";
    this.qschema = quoteIdent(this.schema);
    const searchPath = `-c search_path=${this.qschema.replaceAll(" ", "\\ ")}`;
    this.searchPath = searchPath;
    // Herald's connections show as `herald:<schema>` in pg_stat_activity (unless the URL names one).
    this.appName = applicationName(connectionString, this.schema);
    const common = { connectionString, types, ...(this.appName ? { application_name: this.appName } : {}) };
    this.pool = new pg.Pool({ ...common, max: options.poolSize ?? 10, options: searchPath });
    this.queuePool = new pg.Pool({ ...common, max: QUEUE_POOL_SIZE, options: `${searchPath} -c synchronous_commit=off` });
    this.claimPool = new pg.Pool({ ...common, max: CLAIM_POOL_SIZE, options: `${searchPath} -c synchronous_commit=off ${CLAIM_PLANNING}` });
    for (const pool of [this.pool, this.queuePool, this.claimPool]) {
      // An idle connection that breaks (server restart) is dropped by the pool;
      // the error surfaces on the next query instead of crashing the process.
      pool.on("error", () => {});
    }
    this.durable = preparing(this.pool);
    this.queueing = preparing(this.queuePool);
    this.claiming = preparing(this.claimPool);
  }

  /** A dedicated connection outside the pools (LISTEN, presence lock). */
  client(): pg.Client {
    return new pg.Client({
      connectionString: this.connectionString,
      options: this.searchPath,
      types,
      ...(this.appName ? { application_name: this.appName } : {}),
    });
  }

  /** One statement on the main (durable) pool, prepared (see `prepared`). */
  async query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    return (await this.durable.query<R>(text, values)).rows;
  }

  /** The same, with the row count. */
  run<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    return this.durable.query<R>(text, values);
  }

  /** One statement on the queue pool (commits without waiting for the WAL flush). */
  get queue(): Queryable {
    return this.queueing;
  }

  /** The claim statement's connections (see `CLAIM_PLANNING`). */
  get claims(): Queryable {
    return this.claiming;
  }

  /** Runs `fn` in one transaction on one connection of the main pool, or of the queue pool. */
  async tx<T>(fn: (q: Queryable) => Promise<T>, options: { queue?: boolean } = {}): Promise<T> {
    const c = await (options.queue ? this.queuePool : this.pool).connect();
    let broken: Error | undefined;
    // A checked-out connection has no listener of the pool's: cut between two
    // statements (pg_terminate_backend, a failover), its 'error' event would
    // otherwise crash the process. The next statement fails instead.
    const onError = (err: Error) => {
      broken = err;
    };
    c.on("error", onError);
    try {
      await c.query("BEGIN");
      const result = await fn(preparing(c));
      await c.query("COMMIT");
      return result;
    } catch (err) {
      await c.query("ROLLBACK").catch((e: Error) => {
        broken = e;
      });
      throw err;
    } finally {
      c.off("error", onError);
      c.release(broken);
    }
  }

  /**
   * Applies the pending files of `migrations/` (see `src/store/sql/migrations.ts`),
   * each recorded in `herald_migrations` with its checksum, in one transaction
   * under an advisory lock per schema, so processes starting at once apply each
   * migration exactly once (the second waits, then finds nothing left to do). A
   * refusal (an applied file edited since, or a migration from a newer Herald)
   * rolls everything back.
   */
  async migrate(): Promise<void> {
    const migrations = migrationsOf("postgres");
    await this.tx(async (c) => {
      await c.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`herald:migrate:${this.schema}`]);
      // Only when missing: CREATE SCHEMA needs a privilege on the database that a
      // user given an existing schema may not have, even with IF NOT EXISTS.
      const { rows } = await c.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [this.schema]);
      if (rows.length === 0) await c.query(`CREATE SCHEMA ${this.qschema}`);
      await c.query(`SET LOCAL search_path TO ${this.qschema}`);
      await c.query(
        "CREATE TABLE IF NOT EXISTS herald_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL, checksum TEXT)",
      );
      // Databases from before checksums have the table without the column (and
      // rows without a checksum, which planMigrations has recorded below).
      await c.query("ALTER TABLE herald_migrations ADD COLUMN IF NOT EXISTS checksum TEXT");
      const applied = (await c.query<AppliedMigration>("SELECT id, name, checksum FROM herald_migrations ORDER BY id")).rows;
      const { pending, unrecorded } = planMigrations(applied, migrations);
      for (const m of unrecorded) await c.query("UPDATE herald_migrations SET checksum = $1 WHERE id = $2", [m.checksum, m.id]);
      for (const m of pending) {
        await c.query(m.sql);
        await c.query("INSERT INTO herald_migrations (id, name, applied_at, checksum) VALUES ($1, $2, $3, $4)", [
          m.id,
          m.name,
          Date.now(),
          m.checksum,
        ]);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.end(), this.queuePool.end(), this.claimPool.end()]);
  }
}

/** `herald:<schema>` (at most 63 bytes, PostgreSQL's limit), or undefined when the URL sets `application_name`. */
function applicationName(connectionString: string, schema: string): string | undefined {
  try {
    if (new URL(connectionString).searchParams.has("application_name")) return undefined;
  } catch {
    // not a URL: keep ours
  }
  return `herald:${schema}`.slice(0, 63);
}

/** A `NOTIFY` channel is database-wide; its payload names the schema whose deliveries became due. */
export const DUE_CHANNEL = "herald_due";
