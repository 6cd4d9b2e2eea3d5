// npm run bench [-- --messages 2000 --endpoints 10 --backlog 100000]
// npm run bench -- --store postgres [--workers 1,2,4 --old-attempts 1000000]
//
// Measures, in one run on this machine:
//   1. the raw ceiling: undici Pool POSTs with an HMAC each, straight at the receiver;
//   2. Herald: a burst of messages x endpoints published through the HTTP API of a
//      `herald serve` process, delivered to the same receiver: deliveries/s and
//      publish→delivered latency percentiles, and the ratio to the ceiling;
//   3. a backlog of pending deliveries drained by `herald worker`, sampling its memory
//      (SQLite runs only);
//   4. with --store postgres: the same burst through one `herald serve --role api` and
//      1, 2, 4 `herald worker` processes on one PostgreSQL (bench/postgres.js), then with
//      2 workers again over 1,000,000 old attempts, next to the SQLite burst of 2;
//   5. with --publish: HTTP publishes/s with no endpoint against a bare Fastify route (bench/publish.js);
//   6. with --steady 1000,5000,10000: a fixed offered rate of deliveries/s for --seconds, open loop,
//      p50/p99 publish→delivered and whether Herald keeps up (bench/steady.js; on PostgreSQL too
//      with --store postgres);
//   7. with --peers: the burst and the drain through BullMQ and pg-boss webhook senders (bench/peers/).
// The receiver runs in its own process; so does Herald.
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { cpuMicros, cpuSeconds, freePort, percentile, pooled, progress, rssMiB, setupBenchApp, startHerald, startReceiver } from "./lib.js";
import { measurePostgres } from "./postgres.js";
import { measurePublishPath } from "./publish.js";
import { measureSteady } from "./steady.js";

const { values: opts } = parseArgs({
  options: {
    messages: { type: "string", default: "2000" },
    endpoints: { type: "string", default: "10" },
    backlog: { type: "string", default: "100000" },
    store: { type: "string", default: "sqlite" },
    workers: { type: "string", default: "1,2,4" },
    "old-attempts": { type: "string", default: "1000000" },
    publish: { type: "boolean", default: false },
    "round-seconds": { type: "string", default: "2" },
    "publish-baseline": { type: "string" },
    steady: { type: "string" },
    seconds: { type: "string", default: "20" },
    peers: { type: "boolean", default: false },
  },
});
if (opts.store !== "sqlite" && opts.store !== "postgres") throw new Error("--store: sqlite or postgres");
const MESSAGES = Number(opts.messages);
const ENDPOINTS = Number(opts.endpoints);
const BACKLOG = Number(opts.backlog);
const API_KEY = "bench-admin-key-0123456789abcdef";
const payload = JSON.stringify({ eventType: "order.created", data: { order: { id: "ord_1", totalAmount: "125.50", currency: "USD", items: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${i}`, quantity: i + 1 })) } } });

const dir = mkdtempSync(join(tmpdir(), "herald-bench-"));
const receiver = await startReceiver();
const results = {};

try {
  results.ceiling = await measureCeiling(MESSAGES * ENDPOINTS);
  results.burst = await measureBurst();
  if (opts.store === "postgres") {
    results.postgres = await measurePostgres({
      workers: opts.workers.split(",").map(Number),
      oldAttempts: Number(opts["old-attempts"]),
      messages: MESSAGES,
      endpoints: ENDPOINTS,
      payload: JSON.parse(payload),
      receiver,
      setup,
      env: (port) => env(port, "unused.db"),
    });
  } else if (BACKLOG > 0) results.backlog = await measureBacklog(BACKLOG);
  if (opts.publish) {
    results.publish = await measurePublishPath({
      roundSeconds: Number(opts["round-seconds"]),
      body: { eventType: "order.created", payload: JSON.parse(payload) },
      apiKey: API_KEY,
      env: (port, name) => env(port, `${name}.db`),
      baselineBin: opts["publish-baseline"],
    });
  }
  if (opts.steady) {
    const steady = { rates: opts.steady.split(",").map(Number), seconds: Number(opts.seconds), endpoints: ENDPOINTS, payload: JSON.parse(payload), receiver, setup, apiKey: API_KEY };
    results.steady = { sqlite: await measureSteady({ ...steady, store: "sqlite", env }) };
    if (opts.store === "postgres") results.steady.postgres = await measureSteady({ ...steady, store: "postgres", env: (port) => env(port, "unused.db") });
  }
  if (opts.peers) {
    // Imported only here: the peers' libraries are devDependencies that a plain run does not need.
    const { measurePeers } = await import("./peers/index.js");
    results.peers = await measurePeers({ messages: MESSAGES, endpoints: ENDPOINTS, payload: JSON.parse(payload), receiver, heraldBurst: results.burst, setup, env });
  }
  report();
} finally {
  receiver.close();
  rmSync(dir, { recursive: true, force: true });
}

async function measureCeiling(n) {
  console.error(`raw ceiling: ${n} signed POSTs with an undici Pool (32 connections)…`);
  const pool = new Pool(receiver.url, { connections: 32 });
  const key = Buffer.from("0123456789abcdef0123456789abcdef");
  const one = async (i) => {
    const ts = Math.floor(Date.now() / 1000);
    const sig = createHmac("sha256", key).update(`msg_${i}.${ts}.`).update(payload).digest("base64");
    const res = await pool.request({ path: "/ceiling", method: "POST", body: payload, headers: { "content-type": "application/json", "webhook-signature": `v1,${sig}` } });
    await res.body.dump();
  };
  await pooled(Array.from({ length: 2000 }), 256, (_, i) => one(i)); // warm-up
  const started = performance.now();
  await pooled(Array.from({ length: n }), 256, (_, i) => one(i));
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { requests: n, perSecond: n / seconds };
}

function setup(port) {
  return setupBenchApp(port, API_KEY, receiver.url, ENDPOINTS);
}

function env(port, file) {
  return { HERALD_DATABASE_URL: `sqlite:${join(dir, file)}`, HERALD_PORT: String(port), HERALD_API_KEY: API_KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" };
}

async function measureBurst() {
  const total = MESSAGES * ENDPOINTS;
  console.error(`burst: ${MESSAGES} messages x ${ENDPOINTS} endpoints through herald serve…`);
  const port = await freePort();
  const herald = await startHerald(["serve"], env(port, "burst.db"));
  const client = await setup(port);
  // Warm-up so connection pools and JIT are in the same state as for the ceiling. The receiver is
  // reset first: what it counted before (the ceiling's POSTs) must not end the wait for the warm-up's
  // deliveries early, or those still in flight would be counted as the burst's.
  await receiver.reset();
  await pooled(Array.from({ length: 200 }), 32, () => client.call("POST", "/applications/bench/messages", { eventType: "warm.up", payload: {} }));
  await receiver.waitForCount(200 * ENDPOINTS, 30_000);
  await receiver.reset();
  const cpuBefore = cpuSeconds(herald.child.pid);
  const started = Date.now();
  await pooled(Array.from({ length: MESSAGES }), 64, () => client.call("POST", "/applications/bench/messages", { eventType: "order.created", payload: JSON.parse(payload) }));
  const publishSeconds = (Date.now() - started) / 1000;
  await receiver.waitForCount(total, 120_000, (n) => progress("delivered", n, total));
  const cpuAfter = cpuSeconds(herald.child.pid);
  const s = await receiver.stats(true);
  await client.close();
  await herald.stop();
  const lat = s.latencies.sort((a, b) => a - b);
  return {
    deliveries: total,
    perSecond: total / ((s.lastAt - started) / 1000),
    publishesPerSecond: MESSAGES / publishSeconds,
    p50: percentile(lat, 50),
    p90: percentile(lat, 90),
    p99: percentile(lat, 99),
    cpuMicrosPerDelivery: cpuMicros(cpuBefore, cpuAfter, total),
  };
}

async function measureBacklog(deliveries) {
  const messages = Math.ceil(deliveries / ENDPOINTS);
  console.error(`backlog: ${messages} messages x ${ENDPOINTS} endpoints queued with the api role, then drained by herald worker…`);
  const port = await freePort();
  const e = env(port, "backlog.db");
  const apiOnly = await startHerald(["serve", "--role", "api"], e);
  const client = await setup(port);
  let done = 0;
  await pooled(Array.from({ length: messages }), 64, async () => {
    await client.call("POST", "/applications/bench/messages", { eventType: "order.created", payload: JSON.parse(payload) });
    if (++done % 500 === 0) progress("queued", done, messages);
  });
  await client.close();
  await apiOnly.stop();
  await receiver.reset();
  const started = Date.now();
  const worker = await startHerald(["worker"], e);
  const samples = [];
  const sampler = setInterval(() => {
    const m = rssMiB(worker.child.pid);
    if (m) samples.push(m);
  }, 250);
  const total = messages * ENDPOINTS;
  await receiver.waitForCount(total, 300_000, (n) => progress("drained", n, total));
  clearInterval(sampler);
  const s = await receiver.stats();
  await worker.stop();
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  return {
    deliveries: total,
    perSecond: total / ((s.lastAt - started) / 1000),
    rssFirstQuarter: Math.max(...samples.slice(0, quarter)),
    rssLastQuarter: Math.max(...samples.slice(-quarter)),
    rssPeak: Math.max(...samples),
  };
}

function report() {
  const { ceiling, burst, backlog, postgres, publish, steady, peers } = results;
  const n = (x) => (x === null || x === undefined ? "–" : Math.round(x).toLocaleString("en-US"));
  console.log("");
  console.log(`Herald benchmark (${opts.store}, ${MESSAGES} messages x ${ENDPOINTS} endpoints, node ${process.version})`);
  console.log(`  raw undici ceiling       ${n(ceiling.perSecond)} POSTs/s`);
  console.log(`  herald burst             ${n(burst.perSecond)} deliveries/s  (${(burst.perSecond / ceiling.perSecond).toFixed(2)} of ceiling)`);
  console.log(`  publish rate (HTTP API)  ${n(burst.publishesPerSecond)} messages/s`);
  if (burst.cpuMicrosPerDelivery !== null) console.log(`  herald CPU per delivery  ${n(burst.cpuMicrosPerDelivery)} µs  (user + system, every thread, publishes included)`);
  console.log(`  publish→delivered        p50 ${n(burst.p50)} ms   p90 ${n(burst.p90)} ms   p99 ${n(burst.p99)} ms`);
  if (backlog) {
    console.log(`  backlog drain            ${n(backlog.deliveries)} deliveries at ${n(backlog.perSecond)}/s`);
    console.log(`  worker memory (RSS)      first quarter ≤ ${n(backlog.rssFirstQuarter)} MiB, last quarter ≤ ${n(backlog.rssLastQuarter)} MiB, peak ${n(backlog.rssPeak)} MiB`);
  }
  if (postgres) {
    console.log("  (the burst above: SQLite, one herald serve process)");
    console.log("  PostgreSQL, 1 api process + N workers:");
    const line = (label, r) =>
      console.log(`    ${label.padEnd(22)} ${n(r.perSecond).padStart(6)} deliveries/s  (${(r.perSecond / ceiling.perSecond).toFixed(2)} of ceiling, ${(r.perSecond / burst.perSecond).toFixed(2)} of SQLite)   publish ${n(r.publishesPerSecond)}/s   p50 ${n(r.p50)} ms   p99 ${n(r.p99)} ms`);
    const workers = (k) => `${k} worker${k === 1 ? "" : "s"}`;
    const change = (big, runs) => {
      const same = runs.find((r) => r.workers === big.workers);
      return same ? `${(((big.perSecond - same.perSecond) / same.perSecond) * 100).toFixed(0)} % vs. empty tables` : "";
    };
    console.log("   burst (the API publishing while the workers deliver):");
    for (const r of postgres.runs) line(workers(r.workers), r);
    if (postgres.big) {
      line(`2 workers, ${n(postgres.big.oldAttempts)} old`, postgres.big);
      console.log(`      with the old attempts: ${change(postgres.big, postgres.runs)}`);
    }
    console.log("   drain (queued first, then delivered by the workers alone):");
    for (const r of postgres.drains) console.log(`    ${workers(r.workers).padEnd(22)} ${n(r.perSecond).padStart(6)} deliveries/s  (${(r.perSecond / ceiling.perSecond).toFixed(2)} of ceiling)`);
    if (postgres.bigDrain) {
      console.log(`    ${`2 workers, ${n(postgres.bigDrain.oldAttempts)} old`.padEnd(22)} ${n(postgres.bigDrain.perSecond).padStart(6)} deliveries/s  (${change(postgres.bigDrain, postgres.drains)})`);
    }
  }
  if (publish) {
    console.log(`  publish path (no endpoint, 64 in flight, 5 alternating rounds of ${opts["round-seconds"]} s):`);
    console.log(`    bare Fastify route     ${n(publish.bare)} requests/s`);
    console.log(`    herald serve           ${n(publish.herald)} publishes/s  (best rounds; median ratio of the rounds ${publish.ratio.toFixed(2)}, range ${publish.ratios[0].toFixed(2)}–${publish.ratios.at(-1).toFixed(2)})`);
    if (publish.baseline) console.log(`    baseline build         ${n(publish.baseline)} publishes/s  (median ratio ${publish.baselineRatio.toFixed(2)}; ${opts["publish-baseline"]})`);
  }
  if (steady) {
    console.log(`  steady state (${opts.seconds} s per rate, open loop, ${ENDPOINTS} endpoints; latency from the scheduled send):`);
    console.log("    store                          offered/s  delivered/s  backlog at end   p50 ms    p99 ms  CPU µs/delivery  kept up");
    for (const [store, runs] of Object.entries(steady)) {
      for (const r of runs) {
        const label = store === "postgres" ? "postgres, api + 2 workers" : "sqlite, one process";
        const notes = [r.failed ? `${r.failed} publishes failed` : "", r.undelivered ? `${n(r.undelivered)} never delivered` : "", r.lateSends > 50 ? `driver ${n(r.lateSends)} ms late` : ""].filter(Boolean).join(", ");
        console.log(
          `    ${label.padEnd(28)} ${n(r.offered).padStart(11)} ${n(r.delivered).padStart(12)} ${n(r.backlog).padStart(15)} ${n(r.p50).padStart(8)} ${n(r.p99).padStart(9)} ${n(r.cpuMicros).padStart(16)}  ${r.keptUp ? "yes" : "no"}${notes ? `  (${notes})` : ""}`,
        );
      }
    }
  }
  if (peers) {
    const herald = peers[0];
    console.log(`  peers, same workloads and receiver (burst: ${MESSAGES} messages x ${ENDPOINTS} endpoints, first publish → last delivery; drain: the same queued, first → last delivery):`);
    console.log("    sender                         burst/s  p99 ms  drain/s   herald ÷ peer (burst, drain)   durability");
    for (const r of peers) {
      const ratio = r === herald ? "" : `${(herald.burst.perSecond / r.burst.perSecond).toFixed(2)}×, ${(herald.drain.perSecond / r.drain.perSecond).toFixed(2)}×`;
      console.log(`    ${r.name.padEnd(28)} ${n(r.burst.perSecond).padStart(8)} ${n(r.burst.p99).padStart(7)} ${n(r.drain.perSecond).padStart(8)}   ${ratio.padEnd(28)} ${r.durability}`);
    }
  }
}
