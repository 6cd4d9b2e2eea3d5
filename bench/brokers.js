// Broker deliveries per second (`npm run build` first; the machine's RabbitMQ, NATS with JetStream and
// Redis on 127.0.0.1, as the tests use them):
//   node bench/brokers.js [--messages 5000]
// 1. the destination alone: N attempts of a 343-byte body with the §4 headers, 64 in flight, through
//    one pooled connection (what a broker confirms per second);
// 2. through Herald on SQLite: N messages published in batches of 500 to one endpoint, timed until
//    every delivery succeeded (what one endpoint gets, with the per-endpoint cap of 32 in flight).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import amqp from "amqplib";
import { Redis } from "ioredis";
import { connect as natsConnect } from "nats";
import { pino } from "pino";
import { AmqpDestination, NatsDestination, RedisDestination } from "../dist/delivery/destinations/index.js";
import { Herald } from "../dist/herald.js";
import { SsrfGuard } from "../dist/security/guard.js";

const { values } = parseArgs({ options: { messages: { type: "string", default: "5000" } } });
const N = Number(values.messages);
const tag = randomBytes(4).toString("hex");
const payload = { id: "evt_2r6Zc3nV1q", eventType: "order.status_changed", timestamp: "2024-12-16T10:30:00Z", data: { orderId: "ord_42", previousStatus: "PLACED", newStatus: "APPROVED", note: "x".repeat(180) } };
const body = JSON.stringify(payload);
const headers = {
  "content-type": "application/json",
  "user-agent": "Herald/bench",
  "webhook-id": "msg_01JD9ZB2N8BENCH",
  "webhook-timestamp": "1734345000",
  "webhook-signature": `v1,${randomBytes(32).toString("base64")}`,
  "x-webhook-signature": randomBytes(32).toString("hex"),
  "x-webhook-event": "order.status_changed",
  "x-webhook-id": "msg_01JD9ZB2N8BENCH",
  "x-webhook-attempt": "1",
};

/** Each broker: its URL, a destination, and how to make, count and remove its target. */
const brokers = [
  {
    name: "RabbitMQ (amqp:, confirms, durable queue)",
    url: `amqp://guest:guest@127.0.0.1:5672/?exchange=herald-bench-${tag}&routingKey=bench`,
    Destination: AmqpDestination,
    async setup() {
      this.conn = await amqp.connect("amqp://guest:guest@127.0.0.1:5672/");
      this.ch = await this.conn.createChannel();
      await this.ch.assertExchange(`herald-bench-${tag}`, "direct", { durable: false });
      await this.ch.assertQueue(`herald-bench-${tag}`, { durable: true });
      await this.ch.bindQueue(`herald-bench-${tag}`, `herald-bench-${tag}`, "bench");
    },
    count: async function () {
      return (await this.ch.checkQueue(`herald-bench-${tag}`)).messageCount;
    },
    async teardown() {
      await this.ch.deleteQueue(`herald-bench-${tag}`);
      await this.ch.deleteExchange(`herald-bench-${tag}`);
      await this.conn.close();
    },
  },
  {
    name: "NATS JetStream (nats:, file stream)",
    url: `nats://127.0.0.1:4222/herald.bench.${tag}`,
    Destination: NatsDestination,
    async setup() {
      this.nc = await natsConnect({ servers: "127.0.0.1:4222" });
      this.jsm = await this.nc.jetstreamManager();
      await this.jsm.streams.add({ name: `HERALD_BENCH_${tag}`, subjects: [`herald.bench.${tag}`] });
    },
    count: async function () {
      return (await this.jsm.streams.info(`HERALD_BENCH_${tag}`)).state.messages;
    },
    async teardown() {
      await this.jsm.streams.delete(`HERALD_BENCH_${tag}`);
      await this.nc.close();
    },
  },
  {
    name: "Redis Streams (redis:, XADD)",
    url: `redis://127.0.0.1:6379/0?stream=herald-bench-${tag}`,
    Destination: RedisDestination,
    async setup() {
      this.redis = new Redis({ host: "127.0.0.1", port: 6379 });
    },
    count: async function () {
      return this.redis.xlen(`herald-bench-${tag}`);
    },
    async teardown() {
      await this.redis.del(`herald-bench-${tag}`);
      await this.redis.quit();
    },
  },
];

async function destinationAlone(broker) {
  const destination = new broker.Destination({ guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"] }) });
  const attempt = { url: new URL(broker.url), headers, body, timeoutMs: 10_000 };
  await destination.send(attempt); // connect first
  const start = performance.now();
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next++ < N) if (!(await destination.send(attempt)).ok) failed++;
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await destination.close();
  if (failed) console.log(`    ${failed} attempts failed!`);
  return N / seconds;
}

async function throughHerald(broker) {
  const dir = mkdtempSync(join(tmpdir(), "herald-bench-"));
  const herald = await Herald.open({
    settings: { HERALD_DATABASE_URL: `sqlite:${join(dir, "herald.db")}`, HERALD_PORT: "0", HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" },
    logger: pino({ level: "silent" }),
  });
  try {
    await herald.start();
    const app = await herald.createApplication({ name: "bench" });
    await herald.createEndpoint(app.id, { url: broker.url });
    const before = await broker.count();
    const start = performance.now();
    for (let i = 0; i < N; i += 500) {
      await herald.publishBatch(app.id, Array.from({ length: Math.min(500, N - i) }, () => ({ eventType: "order.status_changed", payload })));
    }
    while ((await broker.count()) - before < N) await new Promise((r) => setTimeout(r, 20));
    return N / ((performance.now() - start) / 1000);
  } finally {
    await herald.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`Broker deliveries (${N.toLocaleString("en")} messages of ${body.length} bytes, node ${process.version})`);
console.log(`  ${"broker".padEnd(44)} ${"destination alone".padStart(18)} ${"through Herald".padStart(16)}`);
for (const broker of brokers) {
  await broker.setup();
  try {
    const alone = await destinationAlone(broker);
    const herald = await throughHerald(broker);
    console.log(`  ${broker.name.padEnd(44)} ${`${Math.round(alone).toLocaleString("en")}/s`.padStart(18)} ${`${Math.round(herald).toLocaleString("en")}/s`.padStart(16)}`);
  } finally {
    await broker.teardown();
  }
}
