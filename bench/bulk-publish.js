// Bulk publish against single publishes, over HTTP (`npm run build` first):
//   node bench/bulk-publish.js [--messages 10000 --batch 500 --concurrency 64 --endpoints 0 --database-url postgres://…]
// Starts `herald serve` (a fresh SQLite file unless --database-url), then publishes
// the same messages twice through undici: one message per request with 64 in
// flight, and `POST …/messages/batch` of --batch messages (2 in flight). Prints
// messages/s for each and the ratio.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Pool } from "undici";
import { freePort, pooled, startHerald, startReceiver } from "./lib.js";

const { values: opts } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    batch: { type: "string", default: "500" },
    concurrency: { type: "string", default: "64" },
    endpoints: { type: "string", default: "0" },
    "database-url": { type: "string" },
  },
});
const MESSAGES = Number(opts.messages);
const BATCH = Number(opts.batch);
const CONCURRENCY = Number(opts.concurrency);
const ENDPOINTS = Number(opts.endpoints);
const API_KEY = "bench-admin-key-0123456789abcdef";
const payload = { eventType: "order.created", data: { order: { id: "ord_1", totalAmount: "125.50", currency: "USD", items: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${i}`, quantity: i + 1 })) } } };

const dir = mkdtempSync(join(tmpdir(), "herald-bulk-"));
const port = await freePort();
const receiver = ENDPOINTS > 0 ? await startReceiver() : null;
const herald = await startHerald(["serve"], {
  HERALD_DATABASE_URL: opts["database-url"] ?? `sqlite:${join(dir, "bulk.db")}`,
  HERALD_PORT: String(port),
  HERALD_API_KEY: API_KEY,
  HERALD_ALLOWED_NETWORKS: "127.0.0.0/8",
});
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: CONCURRENCY });
const call = async (path, body) => {
  const res = await pool.request({ method: "POST", path: `/api/v1${path}`, headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  const text = await res.body.text();
  if (res.statusCode >= 300) throw new Error(`${path} → ${res.statusCode} ${text}`);
  return text;
};

try {
  await call("/applications", { name: "bench", uid: "bench" });
  for (let i = 0; i < ENDPOINTS; i++) await call("/applications/bench/endpoints", { url: `${receiver.url}/ep${i}` });
  const one = () => call("/applications/bench/messages", { eventType: "order.created", payload });
  const batch = () => call("/applications/bench/messages/batch", { messages: Array.from({ length: BATCH }, () => ({ eventType: "order.created", payload })) });
  // Warm-up of both routes.
  await pooled(Array.from({ length: 1000 }), CONCURRENCY, one);
  await pooled(Array.from({ length: 4 }), 2, batch);

  let started = performance.now();
  await pooled(Array.from({ length: MESSAGES }), CONCURRENCY, one);
  const single = MESSAGES / ((performance.now() - started) / 1000);

  started = performance.now();
  await pooled(Array.from({ length: Math.ceil(MESSAGES / BATCH) }), 2, batch);
  const bulk = (Math.ceil(MESSAGES / BATCH) * BATCH) / ((performance.now() - started) / 1000);

  console.log(`Bulk publish, ${MESSAGES} messages of ${JSON.stringify(payload).length} bytes, ${ENDPOINTS} endpoints, ${opts["database-url"] ? "PostgreSQL" : "SQLite"}, node ${process.version}`);
  console.log(`  single publishes, ${CONCURRENCY} in flight   ${Math.round(single)} messages/s`);
  console.log(`  batches of ${BATCH}, 2 in flight       ${Math.round(bulk)} messages/s`);
  console.log(`  ratio                                ${(bulk / single).toFixed(1)}×`);
} finally {
  await pool.close();
  await herald.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
}
