/**
 * The store's rows as the fault-injection suite reads them, from a connection
 * of its own, and the audit that times successes from inside the store.
 */
import Database from "better-sqlite3";
import pg from "pg";
import { POSTGRES_URL, type TestSchema } from "../helpers/postgres.js";

/** Reads (and, for the audit, writes) the store from a connection of the test's own. */
export interface StoreDb {
  /** `?` placeholders on both stores; BIGINT as numbers, booleans as 1/0. */
  query<R = Record<string, unknown>>(sql: string, ...params: unknown[]): Promise<R[]>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

const pgShapes = {
  getTypeParser: (oid: number, format?: "text" | "binary") =>
    oid === 20 ? Number : oid === 16 ? (v: string) => (v === "t" ? 1 : 0) : pg.types.getTypeParser(oid, format),
} as pg.CustomTypesConfig;

/** One connection to the test's schema; its application_name keeps it out of the Herald processes' terminations. */
export function postgresDb(schema: TestSchema): StoreDb {
  let client: Promise<pg.Client> | null = null;
  const connect = () => {
    const c = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema.schema}`, types: pgShapes, application_name: "herald-faults-checker" });
    c.on("error", () => {
      client = null;
    });
    return c.connect().then(() => c);
  };
  const run = async (text: string, values?: unknown[]) => {
    client ??= connect();
    return (await (await client).query(text, values)).rows;
  };
  return {
    query: async <R>(sql: string, ...params: unknown[]) => {
      let n = 0;
      return (await run(sql.replace(/\?/g, () => `$${++n}`), params)) as R[];
    },
    exec: async (sql) => void (await run(sql)),
    close: async () => {
      const c = client;
      client = null;
      await (await c)?.end().catch(() => {});
    },
  };
}

export function sqliteDb(path: string): StoreDb {
  let reader: Database.Database | null = null;
  return {
    query: async <R>(sql: string, ...params: unknown[]) => {
      reader ??= new Database(path, { readonly: true });
      return reader.prepare(sql).all(...params) as R[];
    },
    exec: async (sql) => {
      const db = new Database(path);
      try {
        db.pragma("busy_timeout = 10000");
        db.exec(sql);
      } finally {
        db.close();
      }
    },
    close: async () => {
      reader?.close();
      reader = null;
    },
  };
}

/**
 * Records, from inside the store, when each delivery first became `succeeded`
 * (the transaction that recorded the success, so the success's time as the
 * other workers can see it, not the attempt's end) and every change away from
 * `succeeded` (a stale completion undoing a success). Test-only tables and
 * triggers in the test's own database.
 */
export async function installAudit(db: StoreDb, kind: "postgres" | "sqlite", schema?: string): Promise<void> {
  const tables = `
    CREATE TABLE faults_succeeded (delivery_id TEXT PRIMARY KEY, message_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, at BIGINT NOT NULL);
    CREATE TABLE faults_regressed (delivery_id TEXT NOT NULL, message_id TEXT NOT NULL, endpoint_id TEXT NOT NULL, status TEXT NOT NULL, at BIGINT NOT NULL);`;
  if (kind === "sqlite") {
    const now = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";
    await db.exec(`${tables}
      CREATE TRIGGER faults_succeeded_t AFTER UPDATE OF status ON deliveries
        WHEN NEW.status = 'succeeded' AND OLD.status <> 'succeeded'
        BEGIN INSERT OR IGNORE INTO faults_succeeded VALUES (NEW.id, NEW.message_id, NEW.endpoint_id, ${now}); END;
      CREATE TRIGGER faults_regressed_t AFTER UPDATE OF status ON deliveries
        WHEN OLD.status = 'succeeded' AND NEW.status <> 'succeeded'
        BEGIN INSERT INTO faults_regressed VALUES (NEW.id, NEW.message_id, NEW.endpoint_id, NEW.status, ${now}); END;`);
    return;
  }
  const s = `"${schema}"`;
  const now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
  await db.exec(`${tables}
    CREATE FUNCTION ${s}.faults_audit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.status = 'succeeded' THEN
        INSERT INTO ${s}.faults_succeeded VALUES (NEW.id, NEW.message_id, NEW.endpoint_id, ${now}) ON CONFLICT DO NOTHING;
      ELSIF OLD.status = 'succeeded' THEN
        INSERT INTO ${s}.faults_regressed VALUES (NEW.id, NEW.message_id, NEW.endpoint_id, NEW.status, ${now});
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER faults_audit AFTER UPDATE OF status ON ${s}.deliveries
      FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION ${s}.faults_audit();`);
}

export async function pendingCount(db: StoreDb): Promise<number> {
  return (await db.query<{ n: number }>("SELECT count(*) AS n FROM deliveries WHERE status = 'pending'"))[0]!.n;
}

/** Pending deliveries leased to the process with this pid (owners are `host:pid:random`). */
export async function leasedTo(db: StoreDb, pid: number): Promise<string[]> {
  const rows = await db.query<{ id: string }>("SELECT id FROM deliveries WHERE status = 'pending' AND lease_owner LIKE ?", `%:${pid}:%`);
  return rows.map((r) => r.id);
}
