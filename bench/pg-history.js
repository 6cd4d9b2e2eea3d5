// What old history costs the PostgreSQL burst, measured in alternating rounds:
//   node bench/pg-history.js [--old-attempts 1000000] [--rounds 3] [--messages 2000]
// Each round runs the burst of `npm run bench -- --store postgres` (1 api process + 2 workers) once on
// empty tables and once over --old-attempts old attempts (with their deliveries and messages, vacuumed
// and checkpointed), in a schema of its own; the machine's swings hit both alike. For each history
// run (and the empty-table one) it prints the table and index scans PostgreSQL counted during the burst,
// so a query that reads old rows shows up. (A backend reports its counts within a second or so of going idle, but may hold
// them back for up to ten: the seeding's own closing count(*) of the attempts can show up as one
// sequential scan.)
import { parseArgs } from "node:util";
import { setupBenchApp, sleep, startReceiver } from "./lib.js";
import { URL_DEFAULT, burst, seedHistory, withSchema } from "./postgres.js";

const { values: opts } = parseArgs({
  options: {
    "old-attempts": { type: "string", default: "1000000" },
    rounds: { type: "string", default: "3" },
    messages: { type: "string", default: "2000" },
  },
});
const API_KEY = "bench-admin-key-0123456789abcdef";
const ENDPOINTS = 10;
const OLD = Number(opts["old-attempts"]);
const url = process.env.HERALD_BENCH_POSTGRES_URL ?? URL_DEFAULT;
const receiver = await startReceiver();

const o = {
  messages: Number(opts.messages),
  endpoints: ENDPOINTS,
  payload: { order: { id: "ord_1", totalAmount: "125.50", currency: "USD", items: Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${i}`, quantity: i + 1 })) } },
  receiver,
  setup: (port) => setupBenchApp(port, API_KEY, receiver.url, ENDPOINTS),
  env: (port) => ({ HERALD_PORT: String(port), HERALD_API_KEY: API_KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" }),
};

/**
 * Scans PostgreSQL counted on the schema's tables (by table) and indexes (by index: the entries they
 * read), after the backends' latest reports have had a moment to arrive.
 */
async function scans(db) {
  await sleep(600);
  await db.admin.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await db.admin.query(
    `SELECT relname AS name, seq_scan AS seq, seq_tup_read AS seq_rows, idx_scan AS idx, idx_tup_fetch AS idx_rows
       FROM pg_stat_user_tables WHERE schemaname = $1`,
    [db.schema],
  );
  const { rows: indexes } = await db.admin.query(
    `SELECT indexrelname AS name, idx_scan AS idx, idx_tup_read AS entries FROM pg_stat_user_indexes WHERE schemaname = $1`,
    [db.schema],
  );
  return new Map([...rows.map((r) => [r.name, r]), ...indexes.map((r) => [`index ${r.name}`, r])]);
}

/** The tables that read more than a few rows between `before` and `after`, one line each. */
function scanDelta(before, after) {
  const out = [];
  for (const [name, a] of after) {
    const b = before.get(name) ?? {};
    const d = (k) => Number(a[k] ?? 0) - Number(b[k] ?? 0);
    if (name.startsWith("index ")) {
      if (d("entries") > 100_000) out.push(`${name}: ${d("idx")} scans reading ${d("entries")} entries`);
    } else if (d("seq_rows") > 1000 || d("idx_rows") > 100_000) {
      out.push(`${name}: ${d("seq")} seq scans reading ${d("seq_rows")} rows, ${d("idx")} index scans fetching ${d("idx_rows")}`);
    }
  }
  return out;
}

/**
 * The burst, over `OLD` old attempts when `old`, and the scans PostgreSQL counted from the end of the
 * seeding (or from the start) to the end of the burst.
 */
const measured = (old) => (db) => {
  let before = new Map();
  const seed = async (app) => {
    await seedHistory(db, app, OLD);
    before = await scans(db);
  };
  seed.label = `${OLD.toLocaleString("en-US")} old attempts`;
  return burst(o, db, 2, old ? seed : undefined).then(async (result) => ({ ...result, seen: scanDelta(before, await scans(db)) }));
};

const changes = [];
try {
  for (let r = 1; r <= Number(opts.rounds); r++) {
    const empty = await withSchema(url, measured(false));
    const old = await withSchema(url, measured(true));
    const ratio = old.perSecond / empty.perSecond;
    changes.push(ratio);
    console.log(`round ${r}: empty ${Math.round(empty.perSecond)}/s, history ${Math.round(old.perSecond)}/s → ${(100 * (ratio - 1)).toFixed(1)} %`);
    for (const line of empty.seen) console.log(`  empty:   ${line}`);
    for (const line of old.seen) console.log(`  history: ${line}`);
  }
  const sorted = [...changes].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  console.log(`median change with ${OLD.toLocaleString("en-US")} old attempts: ${(100 * (median - 1)).toFixed(1)} %`);
} finally {
  receiver.close();
}
