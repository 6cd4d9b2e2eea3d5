// The peers in the same run (`npm run bench -- --peers`): webhook senders built on BullMQ (Redis) and on
// pg-boss (PostgreSQL), each as its docs recommend for throughput (bulk add, worker concurrency, undici
// keep-alive, Standard Webhooks HMAC signing, retries configured), driven through the same two workloads
// as Herald and delivering to the same receiver:
//   - burst: the worker running, messages published 64 at a time (each message one bulk add of one job
//     per endpoint); deliveries per second from the first publish to the last delivery;
//   - drain: the same messages queued with no worker running, then one worker started; deliveries per
//     second from the first delivery to the last.
// BullMQ runs three times: on the machine's Redis (127.0.0.1:6379) as it is configured (read back and
// printed), then on a redis-server started here on another loopback port with an append-only file,
// fsync once a second and then fsync always (CONFIG SET between the runs), stopped afterwards.
// pg-boss runs on the machine's PostgreSQL in a schema of its own, dropped afterwards.
// The peers' producers call the queue library in the benchmark's process: no HTTP hop, which Herald's
// publishes do pay. Their workers run in their own process, as Herald's does.
import { spawn, fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import PgBoss from "pg-boss";
import { freePort, here, percentile, pooled, progress, sleep, startHerald } from "../lib.js";
import { URL_DEFAULT } from "../postgres.js";
import { fanOut } from "./common.js";

const IN_FLIGHT = 64;
const WARM_UP = 200;
/** BullMQ's and pg-boss's retry settings: 5 tries, exponential backoff from 1 s. */
const BULL_JOB_OPTIONS = { attempts: 5, backoff: { type: "exponential", delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 };
const BOSS_QUEUE_OPTIONS = { retryLimit: 4, retryDelay: 1, retryBackoff: true };

/**
 * @param {object} o
 * @param {number} o.messages @param {number} o.endpoints @param {object} o.payload
 * @param {object} o.receiver the bench receiver
 * @param {object} o.heraldBurst the run's Herald burst (same workload)
 * @param {(port: number) => Promise<object>} o.setup creates Herald's application and endpoints
 * @param {(port: number, file: string) => Record<string, string>} o.env
 */
export async function measurePeers(o) {
  const body = JSON.stringify(o.payload);
  const endpoints = Array.from({ length: o.endpoints }, (_, i) => ({ url: `${o.receiver.url}/ep${i}`, secret: randomBytes(24).toString("base64") }));
  const rows = [];
  rows.push({ name: "herald (sqlite, one process)", durability: "WAL fdatasync before each 202 (group commit)", burst: o.heraldBurst, drain: await heraldDrain(o) });

  const main = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 });
  await main.connect();
  const [, appendonly] = await main.config("GET", "appendonly");
  const [, save] = await main.config("GET", "save");
  await main.quit();
  const asIs = appendonly === "no" && save === "" ? "none: Redis keeps nothing on disk (appendonly no, no snapshots)" : `Redis as configured: appendonly ${appendonly}, save "${save}"`;
  rows.push({ name: "bullmq, redis as is", durability: asIs, ...(await bullmqRuns(o, 6379, endpoints, body)) });

  const redis = await startRedis();
  try {
    const admin = new Redis({ host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: 1 });
    await admin.config("SET", "appendfsync", "everysec");
    rows.push({ name: "bullmq, redis aof everysec", durability: "AOF, fsync once a second: up to 1 s of adds lost", ...(await bullmqRuns(o, redis.port, endpoints, body)) });
    await admin.config("SET", "appendfsync", "always");
    rows.push({ name: "bullmq, redis aof always", durability: "AOF, fsync after every write", ...(await bullmqRuns(o, redis.port, endpoints, body)) });
    await admin.quit();
  } finally {
    await redis.stop();
  }

  const url = process.env.HERALD_BENCH_POSTGRES_URL ?? URL_DEFAULT;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const sync = (await admin.query("SHOW synchronous_commit")).rows[0].synchronous_commit;
  await admin.end();
  rows.push({ name: "pg-boss, postgres", durability: `PostgreSQL, synchronous_commit=${sync}`, ...(await pgBossRuns(o, url, endpoints, body)) });
  return rows;
}

/** Herald's drain of the same workload: queued by `herald serve --role api`, then delivered by `herald worker`. */
async function heraldDrain(o) {
  const total = o.messages * o.endpoints;
  console.error(`peers: herald drain of ${total} deliveries…`);
  const port = await freePort();
  const env = o.env(port, "peers-drain.db");
  const api = await startHerald(["serve", "--role", "api"], env);
  const client = await o.setup(port);
  await pooled(Array.from({ length: o.messages }), IN_FLIGHT, () => client.call("POST", "/applications/bench/messages", { eventType: "order.created", payload: o.payload }));
  await client.close();
  await api.stop();
  await o.receiver.reset();
  const worker = await startHerald(["worker"], env);
  try {
    await o.receiver.waitForCount(total, 300_000, (n) => progress("drained", n, total));
    const s = await o.receiver.stats();
    return { perSecond: total / ((s.lastAt - s.firstAt) / 1000) };
  } finally {
    await worker.stop();
  }
}

async function bullmqRuns(o, port, endpoints, body) {
  const connection = { host: "127.0.0.1", port, maxRetriesPerRequest: null };
  const prefix = `herald-bench-${randomBytes(4).toString("hex")}`;
  const producer = (name) => {
    const queue = new Queue(name, { connection, prefix, defaultJobOptions: BULL_JOB_OPTIONS });
    return {
      add: (jobs) => queue.addBulk(jobs.map((data) => ({ name: "webhook", data }))),
      close: async () => {
        await queue.obliterate({ force: true });
        await queue.close();
      },
    };
  };
  const worker = (name) => startWorker("bullmq-worker.js", { QUEUE: name, REDIS_PORT: String(port), PREFIX: prefix });
  console.error(`peers: bullmq on 127.0.0.1:${port}…`);
  return {
    burst: await burst(o, producer("burst"), () => worker("burst"), endpoints, body),
    drain: await drain(o, producer("drain"), () => worker("drain"), endpoints, body),
  };
}

async function pgBossRuns(o, url, endpoints, body) {
  const schema = `pgboss_bench_${randomBytes(4).toString("hex")}`;
  const boss = new PgBoss({ connectionString: url, schema, supervise: false, schedule: false });
  boss.on("error", (err) => console.error("pg-boss:", err.message));
  await boss.start();
  console.error(`peers: pg-boss on ${new URL(url).host}, schema ${schema}…`);
  try {
    const producer = async (name) => {
      await boss.createQueue(name, BOSS_QUEUE_OPTIONS);
      return { add: (jobs) => boss.insert(jobs.map((data) => ({ name, data }))), close: async () => {} };
    };
    const worker = (name) => startWorker("pgboss-worker.js", { QUEUE: name, DATABASE_URL: url, SCHEMA: schema });
    return {
      burst: await burst(o, await producer("burst"), () => worker("burst"), endpoints, body),
      drain: await drain(o, await producer("drain"), () => worker("drain"), endpoints, body),
    };
  } finally {
    await boss.stop({ graceful: false, wait: true });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

async function burst(o, producer, startW, endpoints, body) {
  const total = o.messages * o.endpoints;
  const worker = await startW();
  try {
    await o.receiver.reset();
    await pooled(Array.from({ length: WARM_UP }), IN_FLIGHT, () => producer.add(fanOut(endpoints, body)));
    await o.receiver.waitForCount(WARM_UP * o.endpoints, 60_000);
    await o.receiver.reset();
    const started = Date.now();
    await pooled(Array.from({ length: o.messages }), IN_FLIGHT, () => producer.add(fanOut(endpoints, body)));
    const publishSeconds = (Date.now() - started) / 1000;
    await o.receiver.waitForCount(total, 300_000, (n) => progress("delivered", n, total));
    const s = await o.receiver.stats(true);
    const lat = s.latencies.sort((a, b) => a - b);
    return { perSecond: total / ((s.lastAt - started) / 1000), publishesPerSecond: o.messages / publishSeconds, p50: percentile(lat, 50), p99: percentile(lat, 99) };
  } finally {
    await worker.stop();
    await producer.close();
  }
}

async function drain(o, producer, startW, endpoints, body) {
  const total = o.messages * o.endpoints;
  try {
    await pooled(Array.from({ length: o.messages }), IN_FLIGHT, () => producer.add(fanOut(endpoints, body)));
    await o.receiver.reset();
    const worker = await startW();
    try {
      await o.receiver.waitForCount(total, 300_000, (n) => progress("drained", n, total));
      const s = await o.receiver.stats();
      return { perSecond: total / ((s.lastAt - s.firstAt) / 1000) };
    } finally {
      await worker.stop();
    }
  } finally {
    await producer.close();
  }
}

/** A peer's worker process; resolves once it is ready. */
async function startWorker(file, env) {
  const child = fork(here(`./peers/${file}`), [], { env: { ...process.env, ...env }, stdio: ["ignore", "inherit", "inherit", "ipc"] });
  await new Promise((resolve, reject) => {
    child.once("message", (m) => (m.type === "ready" ? resolve() : reject(new Error(`${file}: ${JSON.stringify(m)}`))));
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return {
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A redis-server of our own on a free loopback port, with an append-only file in a temp dir. */
async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "herald-bench-redis-"));
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const deadline = Date.now() + 10_000;
  while (!out.includes("Ready to accept connections")) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start:\n${out}`);
    await sleep(20);
  }
  return {
    port,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
