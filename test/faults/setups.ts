/**
 * The two setups of the fault-injection suite, each a few real Herald
 * processes with their receivers, API client, store reader and timeline:
 * PostgreSQL (an API process and workers on one fresh schema) and SQLite (one
 * `herald serve` on a fresh file). Plus what scenarios do with them: drain,
 * run a steady load, and probe how promptly an idle setup delivers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshSchema, type TestSchema } from "../helpers/postgres.js";
import { APP, Api, BASE_ENV, type Behaviour, HeraldProcess, Load, type Publish, Receivers, VERBOSE, bucket, freePort, sleep, until } from "./harness.js";
import { type StoreDb, installAudit, pendingCount, postgresDb, sqliteDb } from "./store.js";

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
  private readonly loads: Load[] = [];

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

  /** Starts publishing through the API (stopped by `close()` too, should the test fail first). */
  startLoad(options: ConstructorParameters<typeof Load>[1]): Load {
    const load = new Load(this.api, options);
    this.loads.push(load);
    return load;
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
    const loads = this.loads.map((l) => l.stop());
    await Promise.all(this.processes.map((p) => p.kill9()));
    await Promise.all(loads);
    if (VERBOSE) for (const p of this.processes) console.log(`[faults] output of ${p.name} (pid ${p.pid}):\n${p.spawned.output()}`);
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

/** Receivers that cut connections: one steady, one resetting a third of the messages twice, one resetting half once. */
export const RESETTING_ENDPOINTS: EndpointSpec[] = [
  { name: "steady" },
  // A third of the messages: the first two attempts are cut off before any response byte.
  { name: "resetting", behaviour: { reset: (id, attempt) => bucket(id, 3) === 0 && attempt <= 2 } },
  { name: "flaky", behaviour: { delayMs: 20, reset: (id, attempt) => bucket(id, 2) === 0 && attempt === 1 } },
];

/** Publishes at `ratePerSec` for `ms`, stops, and drains; the publishes made. */
export async function steadyLoad(setup: Setup, ratePerSec: number, ms: number): Promise<Publish[]> {
  const load = setup.startLoad({ ratePerSec });
  setup.note("load started");
  await sleep(ms);
  await load.stop();
  setup.note("load stopped");
  await drain(setup);
  return load.publishes;
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
