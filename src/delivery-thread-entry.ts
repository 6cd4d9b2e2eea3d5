// The delivery thread (src/delivery/thread.ts): a Herald of role `worker`
// opened from the process's settings, on a store connection of its own.
import { parentPort, workerData } from "node:worker_threads";
import type { HeraldConfig, RawSettings } from "./config/config.js";
import { HeraldError } from "./core/errors.js";
import { Herald } from "./herald.js";
import type { AttemptSample } from "./observability/metrics.js";
import { startTracing } from "./observability/otel-sdk.js";
import type { FromDeliveryThread, ToDeliveryThread } from "./delivery/thread.js";

const port = parentPort;
if (!port) throw new Error("delivery-thread-entry.js runs as a worker thread (src/delivery/thread.ts)");
const send = (m: FromDeliveryThread): void => port.postMessage(m);
const { settings, config } = workerData as { settings: RawSettings; config: Partial<HeraldConfig> };

let attempts: AttemptSample[] = [];
let fenced = 0;
/** The counts since the last message, to the main thread's metrics. */
const flushCounts = (id?: number): void => {
  if (attempts.length === 0 && fenced === 0 && id === undefined) return;
  send({ type: "counts", attempts, fenced, ...(id === undefined ? {} : { id }) });
  attempts = [];
  fenced = 0;
};

let herald: Herald | undefined;
let stopTracing: (() => Promise<void>) | undefined;
try {
  herald = await Herald.open({ settings: { ...settings, HERALD_ROLE: "worker" }, config: { ...config, role: "worker" } });
  herald.metrics.forward({ attempt: (sample) => attempts.push(sample), fenced: (n) => (fenced += n) });
  stopTracing = (await startTracing({ ...process.env, ...settings }, herald.logger)) ?? undefined;
  await herald.start();
} catch (err) {
  // Refused (another process delivers from this SQLite file) or the store is out of reach: said once, by the main thread.
  await herald?.stop().catch(() => {});
  send({ type: "failed", code: err instanceof HeraldError ? err.code : null, message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
const delivering = herald;
const dispatcher = delivering.dispatcher;
if (!dispatcher) throw new Error("the delivery thread's Herald has no dispatcher");

// Room for handed-over jobs, said again (once per turn at most) whenever it grew.
let received = 0;
let roomQueued = false;
dispatcher.onRoomFreed = () => {
  if (roomQueued) return;
  roomQueued = true;
  setImmediate(() => {
    roomQueued = false;
    send({ type: "room", room: dispatcher.room, received });
  });
};

// Counts reach the metrics at least once a second without a scrape asking.
const ticker = setInterval(() => flushCounts(), 1000);
ticker.unref();

port.on("message", (m: ToDeliveryThread) => {
  if (m.type === "wake") dispatcher.wake();
  else if (m.type === "jobs") {
    received += m.jobs.length;
    dispatcher.offer(m.jobs, m.until, m.epoch);
    dispatcher.onRoomFreed?.();
  }
  else if (m.type === "flush") flushCounts(m.id);
  else if (m.type === "stop") {
    clearInterval(ticker);
    void (async () => {
      try {
        await delivering.stop();
        await stopTracing?.();
      } finally {
        flushCounts();
        send({ type: "stopped" });
      }
    })();
  }
});
send({ type: "started", owner: dispatcher.owner, leaseMs: delivering.config.delivery.leaseMs, room: dispatcher.room });
