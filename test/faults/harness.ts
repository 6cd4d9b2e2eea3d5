/**
 * Machinery of the fault-injection suite (issue 8, "Proof"): real Herald
 * processes (the built CLI, `bin/herald.js`), recording receivers on
 * 127.0.0.1, a publishing loop at a bounded rate through the HTTP API, and a
 * reader of the store's rows. The invariants checked over what they record
 * are in `invariants.ts`; the scenarios are the `*.test.ts` files beside it.
 *
 * `HERALD_FAULTS_BIN` runs another build's `bin/herald.js` (say, a checkout of
 * an older commit) under the same scenarios.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { Pool } from "undici";
import { POSTGRES_URL, freshSchema, type TestSchema } from "../helpers/postgres.js";
import { HERALD_BIN, type Spawned, spawnHerald } from "../helpers/process.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

export const API_KEY = "faults-admin-key-0123456789";
export const BIN = process.env.HERALD_FAULTS_BIN || HERALD_BIN;
export const APP = "faults";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Settings every process of the suite gets: loopback receivers, quick retries, short attempts. */
export const BASE_ENV: Record<string, string> = {
  HERALD_API_KEY: API_KEY,
  HERALD_ALLOWED_NETWORKS: "127.0.0.0/8",
  // Retries within the scenario's time; ten attempts, so that no endpoint is disabled for failing.
  HERALD_RETRY_SCHEDULE: "0s,250ms,500ms,1s,1s,1s,1s,1s,1s,1s",
  HERALD_REQUEST_TIMEOUT: "2s",
  HERALD_LOG_LEVEL: "warn",
};

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Stable pseudo-random choice per message: the same message is treated the same way on every attempt. */
export function bucket(messageId: string, buckets: number): number {
  return createHash("sha256").update(messageId).digest().readUInt32BE(0) % buckets;
}

// ---------------------------------------------------------------- processes

/** Every child still running: killed when this test process exits, whatever happened. */
const living = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of living) child.kill("SIGKILL");
});

/** One Herald process, with the faults a test injects into it. */
export class HeraldProcess {
  readonly spawned: Spawned;

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.spawned = spawnHerald(args, env, undefined, BIN);
    const child = this.spawned.child;
    living.add(child);
    void this.spawned.exited.then(() => living.delete(child));
  }

  get pid(): number {
    return this.spawned.child.pid!;
  }

  get alive(): boolean {
    return this.spawned.child.exitCode === null && this.spawned.child.signalCode === null;
  }

  /** SIGSTOP: the process keeps its sockets, leases and presence, and does nothing. */
  freeze(): void {
    this.spawned.child.kill("SIGSTOP");
  }

  thaw(): void {
    this.spawned.child.kill("SIGCONT");
  }

  /** SIGKILL (also works on a frozen process), and waits for the exit. */
  async kill9(): Promise<void> {
    if (this.alive) this.spawned.child.kill("SIGKILL");
    await this.spawned.exited;
  }
}

// ---------------------------------------------------------------- receivers

/** One request as a receiver saw it. */
export interface Hit {
  endpoint: string;
  messageId: string;
  /** `x-webhook-attempt`. */
  attempt: number;
  /** `webhook-timestamp` in ms: the attempt started no earlier than this (second precision). */
  startedNoEarlierThan: number;
  /** Arrival (the request fully read). */
  at: number;
  /** What the receiver did: answered 200 (it processed the message) or reset the connection. */
  answer: "ok" | "reset";
}

export interface Behaviour {
  /** How long before answering 200. Default: 2 ms. */
  delayMs?: number;
  /** Requests to answer by destroying the socket after reading the request (no response byte). */
  reset?: (messageId: string, attempt: number) => boolean;
}

/** One recording receiver per endpoint (its own origin, so its own connection pool in Herald). */
export class Receivers {
  readonly hits: Hit[] = [];
  /** Requests read and not answered yet. */
  open = 0;
  private readonly servers: Receiver[] = [];

  async add(name: string, behaviour: Behaviour = {}): Promise<string> {
    const receiver = await startReceiver((r, res) => {
      const messageId = String(r.headers["webhook-id"] ?? "");
      const attempt = Number(r.headers["x-webhook-attempt"] ?? 0);
      const reset = behaviour.reset?.(messageId, attempt) ?? false;
      const startedNoEarlierThan = Number(r.headers["webhook-timestamp"] ?? 0) * 1000;
      this.hits.push({ endpoint: name, messageId, attempt, startedNoEarlierThan, at: r.at, answer: reset ? "reset" : "ok" });
      if (reset) {
        res.socket?.destroy();
        return;
      }
      this.open++;
      setTimeout(() => {
        this.open--;
        res.end("ok");
      }, behaviour.delayMs ?? 2);
    });
    receiver.received.length = 0;
    this.servers.push(receiver);
    return `${receiver.url}/${name}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
  }
}

// ---------------------------------------------------------------- the API and the load

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several shapes
  body: any;
  /** When the answer arrived. */
  at: number;
}

export class Api {
  private readonly pool: Pool;

  constructor(readonly port: number) {
    this.pool = new Pool(`http://127.0.0.1:${port}`, { connections: 16, headersTimeout: 10_000, bodyTimeout: 10_000 });
  }

  async call(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<Reply> {
    const res = await this.pool.request({
      method,
      path: `/api/v1${path}`,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.statusCode, body: parsed, at: Date.now() };
  }

  /** The same, failing unless the answer is 2xx. */
  async ok(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<Reply> {
    const r = await this.call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** One publish of the load: acknowledged when `status` is 202. */
export interface Publish {
  seq: number;
  sentAt: number;
  status?: number;
  id?: string;
  ackAt?: number;
  error?: string;
}

/**
 * Publishes `ratePerSec` messages a second through the API, at most
 * `maxInFlight` at once, until stopped (or `maxMs`, a safety bound). Failed
 * publishes (the server killed, a connection terminated) are recorded, not
 * retried: only a 202 promises anything.
 */
export class Load {
  readonly publishes: Publish[] = [];
  readonly done: Promise<void>;
  private stopped = false;

  constructor(
    private readonly api: Api,
    private readonly options: { ratePerSec: number; maxInFlight?: number; maxMs?: number },
  ) {
    this.done = this.run();
  }

  acked(): Publish[] {
    return this.publishes.filter((p) => p.status === 202);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(): Promise<void> {
    const interval = 1000 / this.options.ratePerSec;
    const maxInFlight = this.options.maxInFlight ?? 16;
    const until = Date.now() + (this.options.maxMs ?? 60_000);
    const inflight = new Set<Promise<void>>();
    let next = Date.now();
    for (let seq = 0; !this.stopped && Date.now() < until; seq++) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      while (inflight.size >= maxInFlight) await Promise.race(inflight);
      if (this.stopped) break;
      const p: Promise<void> = this.publish(seq).finally(() => inflight.delete(p));
      inflight.add(p);
      // After a stall, catch up by at most one interval: the rate stays bounded.
      next = Math.max(next + interval, Date.now() - interval);
    }
    await Promise.all(inflight);
  }

  private async publish(seq: number): Promise<void> {
    const p: Publish = { seq, sentAt: Date.now() };
    this.publishes.push(p);
    try {
      const r = await this.api.call("POST", `/applications/${APP}/messages`, { eventType: "fault.tick", payload: { seq } });
      p.status = r.status;
      p.ackAt = r.at;
      if (r.status === 202) p.id = String(r.body.id);
      else p.error = JSON.stringify(r.body).slice(0, 200);
    } catch (err) {
      p.error = (err as Error).message;
    }
  }
}

// ---------------------------------------------------------------- the store's rows

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

// ---------------------------------------------------------------- a running setup

export interface EndpointSpec {
  name: string;
  behaviour?: Behaviour;
  /** The endpoint's `rateLimit` (per second, per delivering process). */
  rateLimit?: number;
}

/** What every scenario works with: processes, receivers, the API, the rows and a timeline. */
export class Setup {
  readonly receivers = new Receivers();
  readonly processes: HeraldProcess[] = [];
  /** Endpoint ids by name. */
  readonly endpoints = new Map<string, string>();
  readonly timeline: { at: number; what: string }[] = [];
  readonly startedAt = Date.now();
  api!: Api;
  db!: StoreDb;
  private readonly cleanups: (() => unknown)[] = [];

  constructor(readonly kind: "postgres" | "sqlite") {}

  /** Notes a moment of the scenario (printed with the summary) and returns its time. */
  note(what: string): number {
    const at = Date.now();
    this.timeline.push({ at, what });
    return at;
  }

  spawn(name: string, args: string[], env: Record<string, string>): HeraldProcess {
    const p = new HeraldProcess(name, args, env);
    this.processes.push(p);
    return p;
  }

  onClose(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  async createEndpoints(specs: EndpointSpec[]): Promise<void> {
    await this.api.ok("POST", "/applications", { name: APP, uid: APP });
    for (const spec of specs) {
      const url = await this.receivers.add(spec.name, spec.behaviour);
      const r = await this.api.ok("POST", `/applications/${APP}/endpoints`, { url, ...(spec.rateLimit ? { rateLimit: spec.rateLimit } : {}) });
      this.endpoints.set(spec.name, String(r.body.id));
    }
  }

  /** Kills every process (SIGKILL works on frozen ones too) and frees everything, in order; never throws. */
  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill9()));
    await this.api?.close().catch(() => {});
    await this.receivers.close().catch(() => {});
    await this.db?.close().catch(() => {});
    for (const fn of this.cleanups.reverse()) await Promise.resolve(fn()).catch(() => {});
  }
}

export interface SetupOptions {
  endpoints: EndpointSpec[];
  /** Settings added to (or replacing) `BASE_ENV`. */
  env?: Record<string, string>;
}

/**
 * PostgreSQL: `herald serve --role api` and `workers` × `herald worker` on
 * one fresh schema. Each process's connections carry the application_name
 * `hf_<tag>_<process>`, so a test terminates exactly its own processes'
 * backends. Small pools keep parallel test files within `max_connections`.
 * `register` receives the cleanup at once (it runs even if the start fails).
 */
export async function startPostgres(
  options: SetupOptions & { workers: number },
  register: (cleanup: () => Promise<void>) => void,
): Promise<PostgresSetup> {
  const setup = new PostgresSetup(freshSchema(), options.env ?? {});
  register(() => setup.close());
  setup.onClose(() => setup.schema.drop());
  const port = await freePort();
  const api = setup.spawn("api", ["serve", "--role", "api"], setup.env("api", { HERALD_PORT: String(port) }, 4));
  await api.spawned.waitFor(/listening on/, 20_000);
  setup.db = postgresDb(setup.schema);
  await installAudit(setup.db, "postgres", setup.schema.schema);
  setup.api = new Api(port);
  for (let i = 1; i <= options.workers; i++) await setup.startWorker(`w${i}`);
  await setup.createEndpoints(options.endpoints);
  return setup;
}

export class PostgresSetup extends Setup {
  /** Prefix of every application_name of this setup's processes. */
  readonly tag: string;

  constructor(
    readonly schema: TestSchema,
    private readonly extraEnv: Record<string, string>,
  ) {
    super("postgres");
    this.tag = `hf_${schema.schema.slice(-12)}_`;
  }

  env(name: string, more: Record<string, string> = {}, pool = 2): Record<string, string> {
    const url = new URL(this.schema.url);
    url.searchParams.set("pool", String(pool));
    url.searchParams.set("application_name", `${this.tag}${name}`);
    return { ...BASE_ENV, ...this.extraEnv, ...more, HERALD_DATABASE_URL: url.toString() };
  }

  get workers(): HeraldProcess[] {
    return this.processes.filter((p) => p.name !== "api" && p.alive);
  }

  async startWorker(name: string): Promise<HeraldProcess> {
    const w = this.spawn(name, ["worker"], this.env(name));
    await w.spawned.waitFor(/worker delivering/, 20_000);
    return w;
  }

  /** Backends of this setup's processes, by process name. */
  async connections(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ name: string; n: number }>(
      `SELECT substr(application_name, ${this.tag.length + 1}) AS name, count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND left(application_name, ${this.tag.length}) = ? GROUP BY 1`,
      this.tag,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.n]));
  }

  /** `pg_terminate_backend` of every connection of this setup's processes (and no one else's); counts by process. */
  async terminateBackends(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ name: string; n: number }>(
      `SELECT substr(application_name, ${this.tag.length + 1}) AS name, count(*)::int AS n FROM (
         SELECT application_name, pg_terminate_backend(pid) AS done FROM pg_stat_activity
         WHERE datname = current_database() AND left(application_name, ${this.tag.length}) = ? AND pid <> pg_backend_pid()) t
       WHERE done GROUP BY 1`,
      this.tag,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.n]));
  }

  /** Presence locks held (advisory locks of the workers' link connections), by process name. */
  async presence(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ name: string; n: number }>(
      `SELECT substr(a.application_name, ${this.tag.length + 1}) AS name, count(*)::int AS n
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
       WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = ${0x48524c44}::oid
         AND left(a.application_name, ${this.tag.length}) = ? GROUP BY 1`,
      this.tag,
    );
    return Object.fromEntries(rows.map((r) => [r.name, r.n]));
  }
}

/** SQLite: one `herald serve` (API and delivery) on a fresh file. */
export async function startSqlite(options: SetupOptions, register: (cleanup: () => Promise<void>) => void): Promise<SqliteSetup> {
  const dir = mkdtempSync(join(tmpdir(), "herald-faults-"));
  const setup = new SqliteSetup(join(dir, "herald.db"), await freePort(), options.env ?? {});
  register(() => setup.close());
  setup.onClose(() => rmSync(dir, { recursive: true, force: true }));
  await setup.startServer();
  setup.db = sqliteDb(setup.path);
  await installAudit(setup.db, "sqlite");
  setup.api = new Api(setup.port);
  await setup.createEndpoints(options.endpoints);
  return setup;
}

export class SqliteSetup extends Setup {
  constructor(
    readonly path: string,
    readonly port: number,
    private readonly extraEnv: Record<string, string>,
  ) {
    super("sqlite");
  }

  /** Starts `herald serve` on the file and the port (again, after a kill). */
  async startServer(): Promise<HeraldProcess> {
    const env = { ...BASE_ENV, ...this.extraEnv, HERALD_DATABASE_URL: `sqlite:${this.path}`, HERALD_PORT: String(this.port) };
    const server = this.spawn("serve", ["serve"], env);
    await server.spawned.waitFor(/listening on/, 20_000);
    return server;
  }

  get server(): HeraldProcess {
    return this.processes.filter((p) => p.alive).at(-1)!;
  }
}

/**
 * Waits until nothing is pending and then, for `quietMs`, nothing more
 * arrives at the receivers and nothing becomes pending again (a stale
 * completion may re-open a delivery). Bounded by `timeoutMs`.
 */
export async function drain(setup: Setup, { timeoutMs = 20_000, quietMs = 1500 } = {}): Promise<{ drained: boolean; pending: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    while ((await pendingCount(setup.db)) > 0 && Date.now() < deadline) await sleep(100);
    const seen = setup.receivers.hits.length;
    await sleep(quietMs);
    const pending = await pendingCount(setup.db);
    if (pending === 0 && setup.receivers.hits.length === seen && setup.receivers.open === 0) return { drained: true, pending };
    if (Date.now() >= deadline) return { drained: false, pending };
  }
}

/** Polls `check` every `stepMs` until it is truthy or `timeoutMs` passed; returns its last value. */
export async function until<T>(check: () => Promise<T>, timeoutMs: number, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v || Date.now() >= deadline) return v;
    await sleep(stepMs);
  }
}

/**
 * Publishes `n` single messages while the setup idles, each 100–400 ms after
 * the previous one arrived, and measures from each 202 to its arrival at every
 * receiver. An idle worker that still LISTENs takes each at once; one that
 * does not finds it only at its next poll (up to 1 s after its last claim,
 * so 600–900 ms later here).
 */
export async function probe(setup: Setup, n: number): Promise<{ publishes: Publish[]; latencies: number[] }> {
  const publishes: Publish[] = [];
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    await sleep(100 + Math.random() * 300);
    const r = await setup.api.ok("POST", `/applications/${APP}/messages`, { eventType: "fault.probe", payload: { probe: i } });
    const id = String(r.body.id);
    publishes.push({ seq: -1 - i, sentAt: r.at, status: r.status, id, ackAt: r.at });
    const arrivals = () => setup.receivers.hits.filter((h) => h.messageId === id);
    const all = await until(async () => arrivals().length >= setup.endpoints.size, 5000, 5);
    latencies.push(all ? Math.max(...arrivals().map((h) => h.at)) - r.at : Number.POSITIVE_INFINITY);
  }
  return { publishes, latencies };
}
