// The PostgreSQL part of `npm run bench -- --store postgres`, all processes on one database:
//   - burst: one `herald serve --role api` process publishing while 1, 2 and 4 `herald worker`
//     processes deliver (what the issue asks for; on one small machine every process shares
//     the same cores, so the API's publish rate bounds it);
//   - drain: the same messages queued first, then delivered by 1, 2 and 4 workers alone
//     (delivery throughput without publishing competing for the cores);
//   - both again with 2 workers over 1,000,000 old attempts (and their deliveries and messages).
// Each run gets its own schema, dropped afterwards.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { freePort, percentile, pooled, progress, startHerald } from "./lib.js";

export const URL_DEFAULT = "postgres://postgres@127.0.0.1:5432/postgres";

/**
 * @param {object} o
 * @param {string} [o.url] PostgreSQL URL (HERALD_BENCH_POSTGRES_URL or the machine's server)
 * @param {number[]} o.workers worker counts to measure
 * @param {number} o.oldAttempts old attempts to seed for the "big tables" run (0 to skip)
 */
export async function measurePostgres(o) {
  const url = o.url ?? process.env.HERALD_BENCH_POSTGRES_URL ?? URL_DEFAULT;
  const out = { runs: [], drains: [], big: null, bigDrain: null };
  for (const n of o.workers) out.runs.push({ workers: n, ...(await withSchema(url, (db) => burst(o, db, n))) });
  for (const n of o.workers) out.drains.push({ workers: n, ...(await withSchema(url, (db) => drain(o, db, n))) });
  if (o.oldAttempts > 0) {
    const seed = (db) => Object.assign((app) => seedHistory(db, app, o.oldAttempts), { label: `${o.oldAttempts.toLocaleString("en-US")} old attempts` });
    out.big = { workers: 2, oldAttempts: o.oldAttempts, ...(await withSchema(url, (db) => burst(o, db, 2, seed(db)))) };
    out.bigDrain = { workers: 2, oldAttempts: o.oldAttempts, ...(await withSchema(url, (db) => drain(o, db, 2, seed(db)))) };
  }
  return out;
}

export async function withSchema(url, fn) {
  const schema = `herald_bench_${randomBytes(4).toString("hex")}`;
  const u = new URL(url);
  u.searchParams.set("schema", schema);
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    return await fn({ url: u.toString(), schema, admin });
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

export async function burst(o, db, workers, seed) {
  const total = o.messages * o.endpoints;
  console.error(`postgres burst: ${o.messages} messages x ${o.endpoints} endpoints, 1 api process + ${workers} worker(s)${seed ? `, ${seed.label}` : ""}…`);
  const port = await freePort();
  const env = { ...o.env(port), HERALD_DATABASE_URL: db.url };
  const api = await startHerald(["serve", "--role", "api"], env);
  const ws = [];
  try {
    for (let i = 0; i < workers; i++) ws.push(await startHerald(["worker"], env));
    const client = await o.setup(port);
    if (seed) await seed((await client.call("GET", "/applications/bench")).id);
    // Reset first: counts left by an earlier run must not end the wait for the warm-up early.
    await o.receiver.reset();
    await pooled(Array.from({ length: 200 }), 32, () => client.call("POST", "/applications/bench/messages", { eventType: "warm.up", payload: {} }));
    await o.receiver.waitForCount(200 * o.endpoints, 60_000);
    await o.receiver.reset();
    const started = Date.now();
    await pooled(Array.from({ length: o.messages }), 64, () => client.call("POST", "/applications/bench/messages", { eventType: "order.created", payload: o.payload }));
    const publishSeconds = (Date.now() - started) / 1000;
    await o.receiver.waitForCount(total, 180_000, (n) => progress("delivered", n, total));
    const s = await o.receiver.stats(true);
    await client.close();
    const lat = s.latencies.sort((a, b) => a - b);
    return {
      deliveries: total,
      perSecond: total / ((s.lastAt - started) / 1000),
      publishesPerSecond: o.messages / publishSeconds,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
    };
  } finally {
    await Promise.all([api, ...ws].map((p) => p.stop()));
  }
}

async function drain(o, db, workers, seed) {
  const total = o.messages * o.endpoints;
  console.error(`postgres drain: ${total} queued deliveries, ${workers} worker(s)${seed ? `, ${seed.label}` : ""}…`);
  const port = await freePort();
  const env = { ...o.env(port), HERALD_DATABASE_URL: db.url };
  const api = await startHerald(["serve", "--role", "api"], env);
  const ws = [];
  try {
    const client = await o.setup(port);
    if (seed) await seed((await client.call("GET", "/applications/bench")).id);
    await pooled(Array.from({ length: o.messages }), 64, () => client.call("POST", "/applications/bench/messages", { eventType: "order.created", payload: o.payload }));
    await client.close();
    await o.receiver.reset();
    ws.push(...(await Promise.all(Array.from({ length: workers }, () => startHerald(["worker"], env)))));
    await o.receiver.waitForCount(total, 180_000, (n) => progress("drained", n, total));
    const s = await o.receiver.stats();
    // From the first delivery to the last: worker start-up is not delivery.
    return { deliveries: total, perSecond: total / ((s.lastAt - s.firstAt) / 1000) };
  } finally {
    await Promise.all([api, ...ws].map((p) => p.stop()));
  }
}

/**
 * A year of history in a few seconds: finished messages, their deliveries
 * and `attempts` old attempts, written with INSERT … SELECT generate_series.
 * Ids start with `0…` so they sort (and age) before every real one.
 */
export async function seedHistory(db, appId, attempts) {
  const started = Date.now();
  const q = (sql, params) => db.admin.query(sql.replaceAll("S.", `${db.schema}.`), params);
  const endpoints = (await q("SELECT id FROM S.endpoints WHERE app_id = $1 ORDER BY id", [appId])).rows.map((r) => r.id);
  const perMessage = endpoints.length;
  const messages = Math.ceil(attempts / perMessage);
  const old = Date.now() - 365 * 86_400_000;
  await q(
    `INSERT INTO S.messages (id, app_id, event_type, payload, created_at)
     SELECT 'msg_0' || lpad(g::text, 25, '0'), $1, 'old.event', '{"old":true}', $2::bigint + g FROM generate_series(1, $3) g`,
    [appId, old, messages],
  );
  await q(
    `INSERT INTO S.deliveries (id, message_id, endpoint_id, app_id, status, attempts, schedule_index, created_at, updated_at, last_attempt_at)
     SELECT 'dlv_0' || lpad((g * 100 + e.n)::text, 25, '0'), 'msg_0' || lpad(g::text, 25, '0'), e.id, $1, 'succeeded', 1, 1, $2::bigint + g, $2::bigint + g, $2::bigint + g
     FROM generate_series(1, $3) g, unnest($4::text[]) WITH ORDINALITY AS e(id, n)`,
    [appId, old, messages, endpoints],
  );
  await q(
    `INSERT INTO S.attempts (id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms, success, status_code, response_body)
     SELECT 'atmpt_0' || lpad((g * 100 + e.n)::text, 25, '0'), 'dlv_0' || lpad((g * 100 + e.n)::text, 25, '0'), 'msg_0' || lpad(g::text, 25, '0'),
       e.id, $1, 1, 'http://127.0.0.1/old', $2::bigint + g, 3, true, 200, 'ok'
     FROM generate_series(1, $3) g, unnest($4::text[]) WITH ORDINALITY AS e(id, n)`,
    [appId, old, messages, endpoints],
  );
  // Old history has long been vacuumed and checkpointed in a real database: settle it
  // here too, so the measurement sees the size of the tables, not the clean-up of the seeding.
  for (const table of ["messages", "deliveries", "attempts"]) await q(`VACUUM (ANALYZE) S.${table}`);
  await q("CHECKPOINT");
  const n = (await q("SELECT count(*)::int AS n FROM S.attempts")).rows[0].n;
  console.error(`  seeded ${n.toLocaleString("en-US")} old attempts (and their deliveries and messages) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
