// The PostgreSQL part of `npm run bench -- --store postgres`, all processes on one database:
//   - burst: one `herald serve --role api` process publishing while 1, 2 and 4 `herald worker`
//     processes deliver (what the issue asks for; on one small machine every process shares
//     the same cores, so the API's publish rate bounds it);
//   - drain: the same messages queued first, then delivered by 1, 2 and 4 workers alone
//     (delivery throughput without publishing competing for the cores);
//   - both again with 2 workers over 1,000,000 old attempts (and their deliveries and messages),
//     by default; `--old-attempts 10000000` for the issue's 10 million (seeding takes minutes).
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
 * History as a year-old database holds it: finished messages spread over 30
 * days a year ago, their deliveries and `attempts` old attempts, written with
 * INSERT … SELECT. Their ids carry those old times (as Herald's ids do: see
 * src/core/ids.ts), so they sit in that month's day partitions, as they would
 * after a year of Herald adding one a day (src/store/postgres/partitions.ts).
 * About 25 s per million attempts on the 2-core development machine.
 */
export async function seedHistory(db, appId, attempts) {
  const started = Date.now();
  const day = 86_400_000;
  const days = 30;
  await db.admin.query(`SET search_path TO ${db.schema}`);
  await db.admin.query("SET maintenance_work_mem = '256MB'");
  const q = (sql, params) => db.admin.query(sql, params);
  const endpoints = (await q("SELECT id FROM endpoints WHERE app_id = $1 ORDER BY id", [appId])).rows.map((r) => r.id);
  const messages = Math.ceil(attempts / endpoints.length);
  const old = Date.now() - 365 * day;
  // One message every `days * day / messages` ms; the id's tail keeps ids of one millisecond apart.
  await q(
    `INSERT INTO messages (id, app_id, event_type, payload, created_at)
     SELECT herald_id_floor('msg', t) || lpad(g::text, 16, '0'), $1, 'old.event', '{"old":true}', t
     FROM generate_series(1, $3) g, LATERAL (SELECT $2::bigint + (g::bigint * $4::bigint) / $3 AS t) AS at`,
    [appId, old, messages, days * day],
  );
  // Each day's deliveries and attempts go into a table of their own, attached
  // afterwards as that day's partition: building the indexes once is several
  // times faster than growing them row by row. A delivery's and an attempt's
  // id: the message's time and tail, and the endpoint's number.
  const first = Math.floor(old / day) * day;
  for (let d = first; d <= old + days * day; d += day) {
    const name = new Date(d).toISOString().slice(0, 10).replaceAll("-", "");
    const from = [d, d + day];
    await q(`CREATE TABLE deliveries_${name} (LIKE deliveries INCLUDING DEFAULTS INCLUDING CONSTRAINTS) WITH (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02)`);
    await q(
      `INSERT INTO deliveries_${name} (id, message_id, endpoint_id, app_id, status, attempts, schedule_index, created_at, updated_at, last_attempt_at)
       SELECT 'dlv_' || substr(m.id, 5) || lpad(e.n::text, 3, '0'), m.id, e.id, $1, 'succeeded', 1, 1, m.created_at, m.created_at, m.created_at
       FROM messages m, unnest($2::text[]) WITH ORDINALITY AS e(id, n)
       WHERE m.event_type = 'old.event' AND m.id >= herald_id_floor('msg', $3) AND m.id < herald_id_floor('msg', $4)`,
      [appId, endpoints, ...from],
    );
    await q(`CREATE TABLE attempts_${name} (LIKE attempts INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`);
    await q(
      `INSERT INTO attempts_${name} (id, delivery_id, message_id, endpoint_id, app_id, attempt_number, url, created_at, duration_ms, success, status_code, response_body)
       SELECT 'atmpt_' || substr(m.id, 5) || lpad(e.n::text, 3, '0'), 'dlv_' || substr(m.id, 5) || lpad(e.n::text, 3, '0'), m.id,
         e.id, $1, 1, 'http://127.0.0.1/old', m.created_at, 3, true, 200, 'ok'
       FROM messages m, unnest($2::text[]) WITH ORDINALITY AS e(id, n)
       WHERE m.event_type = 'old.event' AND m.id >= herald_id_floor('msg', $3) AND m.id < herald_id_floor('msg', $4)`,
      [appId, endpoints, ...from],
    );
    const [b] = (
      await q(
        `SELECT herald_id_floor('msg', $1) AS m0, herald_id_floor('msg', $2) AS m1, herald_id_floor('atmpt', $1) AS a0, herald_id_floor('atmpt', $2) AS a1`,
        from,
      )
    ).rows;
    await q(`ALTER TABLE deliveries ATTACH PARTITION deliveries_${name} FOR VALUES FROM ('${b.m0}') TO ('${b.m1}')`);
    await q(`ALTER TABLE attempts ATTACH PARTITION attempts_${name} FOR VALUES FROM ('${b.a0}') TO ('${b.a1}')`);
  }
  // Old history has long been vacuumed and checkpointed in a real database: settle it
  // here too, so the measurement sees the size of the tables, not the clean-up of the seeding.
  for (const table of ["messages", "deliveries", "attempts"]) await q(`VACUUM (ANALYZE) ${table}`);
  await q("CHECKPOINT");
  const n = (await q("SELECT count(*)::int AS n FROM attempts")).rows[0].n;
  console.error(`  seeded ${n.toLocaleString("en-US")} old attempts (and their deliveries and messages) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
