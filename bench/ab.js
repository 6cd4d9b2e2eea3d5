// A/B of the burst between two builds, with the CPU of every thread of the Herald process:
//   node bench/ab.js [--a ../other-checkout/bin/herald.js] [--messages 3000] [--rounds 3] [--split]
// Runs the same burst as `npm run bench` (messages x 10 endpoints published over HTTP, 64 in flight,
// after a warm-up) alternately through build A (--a, default: this checkout) and this checkout (B),
// and prints per round: deliveries/s, the publish rate, publish→delivered p50/p99, and the CPU µs per
// delivery of each thread of the Herald process (main, the delivery thread, V8's GC helpers, …), read
// from /proc/<pid>/task. On a shared machine rates swing from run to run; alternating rounds and
// per-thread CPU are what make two builds comparable. `--split` runs `herald serve --role api` and
// `herald worker` as two processes instead (SQLite), for comparison with one process.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { freePort, percentile, pooled, startHerald, startReceiver } from "./lib.js";

const { values: opts } = parseArgs({
  options: {
    a: { type: "string" },
    messages: { type: "string", default: "3000" },
    rounds: { type: "string", default: "3" },
    split: { type: "boolean", default: false },
  },
});
const API_KEY = "bench-admin-key-0123456789abcdef";
const ENDPOINTS = 10;
const MESSAGES = Number(opts.messages);
const payload = { order: { id: "ord_1", totalAmount: "125.50", currency: "USD", items: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${i}`, quantity: i + 1 })) } };

/** CPU seconds of each thread of `pid`, by thread id. */
function threads(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** µs of CPU per delivery of each thread that used any, busiest first. */
function perThread(before, after, n) {
  const rows = [];
  for (const [tid, cpu] of after) {
    const us = ((cpu - (before.get(tid) ?? 0)) * 1e6) / n;
    if (us >= 1) rows.push(Math.round(us));
  }
  rows.sort((x, y) => y - x);
  return `${rows.reduce((a, b) => a + b, 0)} µs (threads ${rows.join(" ")})`;
}

async function burst(bin, receiver) {
  const dir = mkdtempSync(join(tmpdir(), "herald-ab-"));
  const port = await freePort();
  const env = { HERALD_DATABASE_URL: `sqlite:${join(dir, "ab.db")}`, HERALD_PORT: String(port), HERALD_API_KEY: API_KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" };
  const api = await startHerald(["serve", ...(opts.split ? ["--role", "api"] : [])], env, bin);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
  const call = async (path, body) => {
    const res = await pool.request({ method: "POST", path: `/api/v1${path}`, headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${path} → ${res.statusCode} ${text}`);
  };
  await call("/applications", { name: "ab", uid: "ab" });
  for (let i = 0; i < ENDPOINTS; i++) await call("/applications/ab/endpoints", { url: `${receiver.url}/ep${i}` });
  const worker = opts.split ? await startHerald(["worker"], env, bin) : null;
  try {
    await receiver.reset();
    await pooled(Array.from({ length: 200 }), 32, () => call("/applications/ab/messages", { eventType: "warm.up", payload: {} }));
    await receiver.waitForCount(200 * ENDPOINTS, 30_000);
    await receiver.reset();
    const pids = [api.child.pid, ...(worker ? [worker.child.pid] : [])];
    const before = pids.map(threads);
    const started = Date.now();
    await pooled(Array.from({ length: MESSAGES }), 64, () => call("/applications/ab/messages", { eventType: "order.created", payload }));
    const publishSeconds = (Date.now() - started) / 1000;
    await receiver.waitForCount(MESSAGES * ENDPOINTS, 120_000);
    const after = pids.map(threads);
    const s = await receiver.stats(true);
    const lat = s.latencies.sort((x, y) => x - y);
    const n = MESSAGES * ENDPOINTS;
    const cpu = pids.map((_, i) => perThread(before[i], after[i], n)).join("; worker ");
    return `${Math.round(n / ((s.lastAt - started) / 1000))} deliveries/s, publish ${Math.round(MESSAGES / publishSeconds)}/s, p50 ${percentile(lat, 50)} ms, p99 ${percentile(lat, 99)} ms, CPU per delivery ${cpu}`;
  } finally {
    await pool.close();
    await api.stop();
    await worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const receiver = await startReceiver();
try {
  for (let round = 1; round <= Number(opts.rounds); round++) {
    console.log(`round ${round} A: ${await burst(opts.a, receiver)}`);
    console.log(`round ${round} B: ${await burst(undefined, receiver)}`);
  }
} finally {
  receiver.close();
}
