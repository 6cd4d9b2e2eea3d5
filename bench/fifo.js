// FIFO throughput per endpoint (`npm run build` first):
//   node bench/fifo.js [--messages 500] [--endpoints 4] [--database-url postgres://…?schema=bench_fifo]
// An embedded Herald (SQLite in a temp dir, or the PostgreSQL given) delivers
// one batch of messages to a receiver in this process that answers 200 at
// once: to one FIFO endpoint, to several FIFO endpoints side by side, and to
// one plain endpoint for comparison. A FIFO endpoint's rate is bounded by one
// round trip per message (attempt, record, claim of the next), not by the
// engine's concurrency.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pino from "pino";
import { Herald } from "../dist/herald.js";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "500" },
    endpoints: { type: "string", default: "4" },
    "database-url": { type: "string" },
  },
});
const messages = Number(values.messages);
const sideBySide = Number(values.endpoints);

const counts = new Map();
const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    counts.set(req.url, (counts.get(req.url) ?? 0) + 1);
    res.end();
  });
});
await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${receiver.address().port}`;

const dir = mkdtempSync(join(tmpdir(), "herald-bench-fifo-"));
const url = values["database-url"] ?? `sqlite:${join(dir, "herald.db")}`;
const herald = await Herald.open({
  settings: { HERALD_DATABASE_URL: url, HERALD_PORT: "0", HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" },
  logger: pino({ level: "silent" }),
});
await herald.start();

async function run(label, endpoints) {
  const app = await herald.createApplication({ name: label });
  const paths = [];
  for (let i = 0; i < endpoints.length; i++) {
    const path = `/${label.replaceAll(" ", "-")}/${i}`;
    paths.push(path);
    await herald.createEndpoint(app.id, { url: `${base}${path}`, ordering: endpoints[i] });
  }
  const start = performance.now();
  for (let i = 0; i < messages; i += 500) {
    const n = Math.min(500, messages - i);
    await herald.publishBatch(app.id, Array.from({ length: n }, (_, k) => ({ eventType: "bench.fifo", payload: { n: i + k } })));
  }
  while (paths.some((p) => (counts.get(p) ?? 0) < messages)) await new Promise((r) => setTimeout(r, 5));
  const seconds = (performance.now() - start) / 1000;
  const perEndpoint = messages / seconds;
  console.log(
    `  ${label.padEnd(28)} ${Math.round(perEndpoint).toLocaleString("en").padStart(7)} deliveries/s per endpoint` +
      `${endpoints.length > 1 ? `, ${Math.round(perEndpoint * endpoints.length).toLocaleString("en")}/s in all` : ""}`,
  );
}

console.log(`FIFO throughput (${messages} messages per endpoint, ${url.startsWith("sqlite:") ? "SQLite" : "PostgreSQL"}, node ${process.version})`);
await run("1 FIFO endpoint", ["fifo"]);
await run(`${sideBySide} FIFO endpoints`, Array(sideBySide).fill("fifo"));
await run("1 plain endpoint", ["none"]);
await herald.stop();
receiver.close();
rmSync(dir, { recursive: true, force: true });
