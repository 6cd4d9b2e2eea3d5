// The BullMQ webhook sender's worker, in its own process (as Herald's worker is): a Worker with a local
// concurrency factor (BullMQ's docs: concurrency for I/O-bound jobs), sending each job with the shared
// undici Agent. Retries are the jobs' own options (attempts, exponential backoff), set by the producer.
import { Worker } from "bullmq";
import { webhookSender } from "./common.js";

const CONCURRENCY = 100;
const sender = webhookSender();
const worker = new Worker(process.env.QUEUE, (job) => sender.send(job.data), {
  connection: { host: "127.0.0.1", port: Number(process.env.REDIS_PORT), maxRetriesPerRequest: null },
  prefix: process.env.PREFIX,
  concurrency: CONCURRENCY,
});
await worker.waitUntilReady();
process.send({ type: "ready" });
process.on("message", async (m) => {
  if (m.type !== "stop") return;
  await worker.close();
  await sender.close();
  process.exit(0);
});
