// FIFO throughput per endpoint with worker processes on PostgreSQL (`npm run build` first):
//   node bench/fifo-workers.js [--messages 200] [--workers 1,2] [--url postgres://…]
// One `herald serve --role api` process and 1, then 2, `herald worker`
// processes on one fresh schema each: one batch of messages to one FIFO
// endpoint, received by this process (answering 200 at once). The rate is
// taken from the first to the last arrival.
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import pg from "pg";
import { freePort, sleep, startHerald } from "./lib.js";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "200" },
    workers: { type: "string", default: "1,2" },
    url: { type: "string", default: process.env.HERALD_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres" },
  },
});
const messages = Number(values.messages);
const KEY = "bench-admin-key-0123456789";

let arrivals = [];
const receiver = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    arrivals.push(Date.now());
    res.end();
  });
});
await new Promise((r) => receiver.listen(0, "127.0.0.1", r));

console.log(`FIFO throughput with worker processes (${messages} messages to one FIFO endpoint, PostgreSQL, node ${process.version})`);
for (const workers of values.workers.split(",").map(Number)) {
  const schema = `bench_fifo_${randomBytes(4).toString("hex")}`;
  const port = await freePort();
  const env = { HERALD_DATABASE_URL: `${values.url}?schema=${schema}`, HERALD_PORT: String(port), HERALD_API_KEY: KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" };
  const processes = [await startHerald(["serve", "--role", "api"], env)];
  for (let i = 0; i < workers; i++) processes.push(await startHerald(["worker"], env));
  const call = async (path, body) => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  };
  arrivals = [];
  await call("/applications", { name: "bench", uid: "bench" });
  await call("/applications/bench/endpoints", { url: `http://127.0.0.1:${receiver.address().port}/fifo`, ordering: "fifo" });
  await call("/applications/bench/messages/batch", { messages: Array.from({ length: messages }, (_, n) => ({ eventType: "bench.fifo", payload: { n } })) });
  while (arrivals.length < messages) await sleep(20);
  const rate = (messages - 1) / ((arrivals[messages - 1] - arrivals[0]) / 1000);
  console.log(`  ${String(workers).padStart(2)} worker${workers === 1 ? " " : "s"}  ${Math.round(rate).toLocaleString("en").padStart(5)} deliveries/s`);
  await Promise.all(processes.map((p) => p.stop()));
  const client = new pg.Client({ connectionString: values.url });
  await client.connect();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}
receiver.close();
