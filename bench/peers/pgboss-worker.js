// The pg-boss webhook sender's worker, in its own process: LOOPS fetch loops, each fetching up to BATCH
// jobs (pg-boss's `fetch` with `batchSize`), sending them concurrently and completing the batch, and
// fetching again at once while there is work (`work()` would wait out its polling interval after every
// batch, which caps it at BATCH jobs per half second per loop); an empty fetch waits pg-boss's minimum
// polling interval, 0.5 s. A job whose send failed is failed on its own: pg-boss retries it (retryLimit,
// retryDelay, retryBackoff, set on the queue).
import PgBoss from "pg-boss";
import { webhookSender } from "./common.js";

const LOOPS = 4;
const BATCH = 100;
const POLL_MS = 500;
const name = process.env.QUEUE;
const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, schema: process.env.SCHEMA, supervise: false, schedule: false, migrate: false, max: LOOPS + 2 });
boss.on("error", (err) => console.error("pg-boss:", err.message));
await boss.start();
const sender = webhookSender();
let running = true;
const loop = async () => {
  while (running) {
    const jobs = await boss.fetch(name, { batchSize: BATCH });
    if (!jobs || jobs.length === 0) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      continue;
    }
    const results = await Promise.allSettled(jobs.map((j) => sender.send(j.data)));
    const failed = jobs.filter((_, i) => results[i].status === "rejected").map((j) => j.id);
    const done = jobs.filter((_, i) => results[i].status === "fulfilled").map((j) => j.id);
    if (failed.length > 0) await boss.fail(name, failed);
    if (done.length > 0) await boss.complete(name, done);
  }
};
const loops = Array.from({ length: LOOPS }, loop);
process.send({ type: "ready" });
process.on("message", async (m) => {
  if (m.type !== "stop") return;
  running = false;
  await Promise.all(loops);
  await boss.stop({ graceful: false, wait: true });
  await sender.close();
  process.exit(0);
});
