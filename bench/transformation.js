// The cost of endpoint transformations (`npm run build` first):
//   node bench/transformation.js [--messages 5000]
// 1. The sandbox alone: one handler call, sequential (compiled handler kept,
//    as for deliveries) and from scratch (as `…/transformation/test` does).
// 2. Deliveries/s end to end, in process on SQLite, to the benchmark receiver
//    (its own process): one endpoint without a transformation, then one with a
//    trivial one (adds a field to the payload).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { Herald } from "../dist/index.js";
import { TransformPool } from "../dist/transform/pool.js";
import { transform } from "../dist/transform/run.js";
import { startReceiver } from "./lib.js";

const { values } = parseArgs({ options: { messages: { type: "string", default: "5000" } } });
const messages = Number(values.messages);
const CODE = "function handler(webhook) { webhook.payload.seen = true; return webhook; }";
const payload = JSON.stringify({ id: "evt_1", type: "order.paid", data: { order: { id: "ord_1", amount: 1295, currency: "EUR", items: [1, 2, 3] } } });

console.log(`Transformation cost (${payload.length}-byte payload, node ${process.version})`);
{
  const pool = new TransformPool({ threads: 1 });
  const input = { method: "POST", url: "https://example.com/h", eventType: "order.paid", headers: {}, payload };
  for (const [label, cache, runs] of [["one call, compiled handler kept", true, 5000], ["one call, compiled from scratch", false, 1000]]) {
    for (let i = 0; i < 200; i++) await transform(pool, "ep", CODE, input, cache);
    const start = performance.now();
    for (let i = 0; i < runs; i++) await transform(pool, "ep", CODE, input, cache);
    console.log(`  ${label.padEnd(40)} ${(((performance.now() - start) / runs) * 1000).toFixed(0)} µs (round trip to the sandbox thread included)`);
  }
  await pool.close();
}

const receiver = await startReceiver();
for (const transformation of [null, { code: CODE, enabled: true }]) {
  const dir = mkdtempSync(join(tmpdir(), "herald-bench-"));
  const herald = await Herald.open({
    settings: { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8", HERALD_LOG_LEVEL: "warn" },
    logger: pino({ level: "warn" }),
  });
  await herald.start();
  const app = await herald.createApplication({ name: "bench" });
  await herald.createEndpoint(app.id, { url: `${receiver.url}/hook`, transformation });
  await receiver.reset();
  // Warm-up (and, with a transformation, the sandbox threads' start).
  await herald.publish({ appId: app.id, eventType: "order.paid", payload, channels: null, eventId: null });
  await receiver.waitForCount(1, 30_000);
  await receiver.reset();
  const start = performance.now();
  for (let i = 0; i < messages; i += 500) {
    const n = Math.min(500, messages - i);
    await herald.publishBatch(app.id, Array.from({ length: n }, () => ({ eventType: "order.paid", payload: JSON.parse(payload) })));
  }
  await receiver.waitForCount(messages, 120_000);
  const seconds = (performance.now() - start) / 1000;
  console.log(`  ${(transformation ? "with a trivial transformation" : "without a transformation").padEnd(40)} ${Math.round(messages / seconds).toLocaleString("en")} deliveries/s (${messages} messages, one endpoint)`);
  await herald.stop();
  rmSync(dir, { recursive: true, force: true });
}
receiver.close();
