// Steady state (`npm run bench -- --steady 1000,5000,10000 [--seconds 20]`): a fixed offered rate of
// deliveries per second (messages/s × endpoints) for --seconds, through the HTTP API, open loop: every
// publish has its send time fixed in advance (message i at t0 + i / messages-per-second), and is sent then
// whether or not earlier ones were answered, so a slow server does not lower the offered rate (undici
// queues what its connections cannot take yet, and that wait counts). The payload carries the scheduled
// send time (`sentAt`); the receiver measures publish→delivered from it. Reported per rate: p50/p99
// publish→delivered, the delivered rate during the window against the offered one, the backlog (offered
// but not yet delivered) when the window ends, and whether Herald kept up.
// SQLite: one `herald serve`. PostgreSQL (with --store postgres): one `herald serve --role api` and
// 2 `herald worker`s on a fresh schema, as bench/postgres.js does.
import { Pool } from "undici";
import { cpuMicros, cpuSeconds, freePort, percentile, sleep, startHerald } from "./lib.js";
import { URL_DEFAULT, withSchema } from "./postgres.js";

const CONNECTIONS = 128;
const WARM_UP_SECONDS = 2;

/**
 * @param {object} o
 * @param {number[]} o.rates offered deliveries per second
 * @param {number} o.seconds how long each rate is offered
 * @param {number} o.endpoints endpoints of the application (each message is that many deliveries)
 * @param {object} o.payload the publish payload (`sentAt` is added to it)
 * @param {object} o.receiver the bench receiver
 * @param {(port: number) => Promise<{ close(): Promise<void> }>} o.setup creates the application and its endpoints
 * @param {(port: number) => Record<string, string>} o.env herald's environment for a port (SQLite)
 * @param {"sqlite" | "postgres"} o.store
 * @param {number} [o.workers] PostgreSQL workers (default 2)
 */
export async function measureSteady(o) {
  const runs = [];
  for (const rate of o.rates) {
    const label = o.store === "postgres" ? `postgres, api + ${o.workers ?? 2} workers` : "sqlite, one process";
    console.error(`steady: ${rate} deliveries/s (${rate / o.endpoints} messages/s x ${o.endpoints} endpoints) for ${o.seconds} s, ${label}…`);
    const run = o.store === "postgres" ? await withSchema(o.url ?? process.env.HERALD_BENCH_POSTGRES_URL ?? URL_DEFAULT, (db) => onPostgres(o, db, rate)) : await onSqlite(o, rate);
    runs.push({ rate, ...run });
  }
  return runs;
}

async function onSqlite(o, rate) {
  const port = await freePort();
  const herald = await startHerald(["serve"], o.env(port, `steady-${rate}.db`));
  try {
    return await steady(o, port, rate, [herald.child.pid]);
  } finally {
    await herald.stop();
  }
}

async function onPostgres(o, db, rate) {
  const port = await freePort();
  const env = { ...o.env(port), HERALD_DATABASE_URL: db.url };
  const processes = [await startHerald(["serve", "--role", "api"], env)];
  try {
    for (let i = 0; i < (o.workers ?? 2); i++) processes.push(await startHerald(["worker"], env));
    return await steady(o, port, rate, processes.map((p) => p.child.pid));
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

/** `pids`: Herald's processes, whose CPU time is summed over the window and the drain after it. */
async function steady(o, port, rate, pids) {
  const client = await o.setup(port);
  await client.close();
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONNECTIONS });
  const perSecond = rate / o.endpoints;
  try {
    // Warm-up at the same rate; what it left in flight is waited for (or, when Herald cannot keep up,
    // given up on) before the receiver is reset, so it is not counted.
    await o.receiver.reset();
    const warm = await offer(pool, o, perSecond, WARM_UP_SECONDS);
    await o.receiver.waitForCount(warm.sent * o.endpoints, 30_000).catch(() => {});
    await o.receiver.reset({ sentAt: true });
    const cpu = () => pids.reduce((sum, pid) => (sum === null || cpuSeconds(pid) === null ? null : sum + cpuSeconds(pid)), 0);
    const cpuBefore = cpu();

    const sent = await offer(pool, o, perSecond, o.seconds);
    const atEnd = await o.receiver.stats();
    const offered = sent.sent * o.endpoints;
    // The rest, for the latency of every delivery (bounded: a server far behind is reported as such).
    const drainMs = Math.max(30_000, 3 * o.seconds * 1000);
    const drained = await o.receiver.waitForCount(offered, drainMs).then(
      () => true,
      () => false,
    );
    const cpuAfter = cpu();
    const s = await o.receiver.stats(true);
    const lat = s.latencies.sort((a, b) => a - b);
    const delivered = atEnd.count;
    const backlog = Math.max(0, offered - delivered);
    return {
      offered: rate,
      delivered: delivered / o.seconds,
      backlog,
      // Kept up: at most 100 ms of offered work still waiting when the window closed (what is in flight
      // at a steady state's latency), and nothing lost. Until 3 December 2026 this allowed a whole second.
      keptUp: backlog <= rate / 10 && sent.failed === 0 && drained,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: lat.at(-1) ?? null,
      failed: sent.failed,
      lateSends: sent.lateMs,
      undelivered: drained ? 0 : offered - s.count,
      // CPU per delivery, publishes included (PostgreSQL's own processes not counted).
      cpuMicros: cpuMicros(cpuBefore, cpuAfter, s.count),
    };
  } finally {
    await pool.close();
  }
}

/**
 * Publishes `perSecond` messages a second for `seconds`, each at its scheduled time, without waiting for
 * answers. Resolves when the last one is answered: how many were sent, how many failed, and how far
 * behind its schedule the driver itself sent the last ones (the driver too shares the machine).
 */
async function offer(pool, o, perSecond, seconds) {
  const total = Math.round(perSecond * seconds);
  const interval = 1000 / perSecond;
  const t0 = Date.now() + 20;
  const headers = { authorization: `Bearer ${o.apiKey}`, "content-type": "application/json" };
  const answers = [];
  let failed = 0;
  let lateMs = 0;
  let next = 0;
  while (next < total) {
    const now = Date.now();
    while (next < total && t0 + next * interval <= now) {
      const at = Math.round(t0 + next * interval);
      lateMs = Math.max(lateMs, now - at);
      const body = JSON.stringify({ eventType: "order.created", payload: { sentAt: at, ...o.payload } });
      answers.push(
        pool.request({ method: "POST", path: "/api/v1/applications/bench/messages", headers, body }).then(
          async (res) => {
            await res.body.dump();
            if (res.statusCode !== 202) failed++;
          },
          () => failed++,
        ),
      );
      next++;
    }
    await sleep(1);
  }
  await Promise.all(answers);
  return { sent: total, failed, lateMs };
}
