import { fork, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

export const here = (p) => fileURLToPath(new URL(p, import.meta.url));
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** The benchmark receiver in its own process, driven over IPC. */
export async function startReceiver() {
  const child = fork(here("./receiver.js"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const ask = (msg, type) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m.type === type) {
          child.off("message", on);
          resolve(m);
        }
      };
      child.on("message", on);
      if (msg) child.send(msg);
    });
  const { port } = await ask(null, "ready");
  return {
    url: `http://127.0.0.1:${port}`,
    /** Forgets what was received; `sentAt`: measure from the payload's `"sentAt"` instead of the webhook-id. */
    reset: (o = {}) => ask({ type: "reset", sentAt: o.sentAt === true }, "reset"),
    stats: (withLatencies = false) => ask({ type: "stats", withLatencies }, "stats"),
    async waitForCount(n, timeoutMs, onProgress) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = await this.stats();
        onProgress?.(s.count);
        if (s.count >= n) return s;
        if (Date.now() > deadline) throw new Error(`receiver got ${s.count} of ${n} within ${timeoutMs} ms`);
        await sleep(50);
      }
    },
    close: () => child.send({ type: "exit" }),
    pid: child.pid,
  };
}

/**
 * Starts the built `herald` CLI and resolves once it listens (or, for a worker, once it started).
 * `bin`: another build's bin/herald.js (the publish path's baseline). BENCH_NODE_ARGS: node flags (--cpu-prof…).
 * BENCH_ECHO=1: Herald's own output is passed through to the benchmark's stderr.
 */
export async function startHerald(args, env, bin = here("../bin/herald.js")) {
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(" ") : []), bin, ...args], {
    env: { ...process.env, HERALD_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => { out += d; if (process.env.BENCH_ECHO) process.stderr.write(d); });
  const deadline = Date.now() + 15_000;
  while (!/listening on|worker delivering/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`herald did not start:\n${out}`);
    await sleep(20);
  }
  return {
    child,
    output: () => out,
    stop: () =>
      new Promise((r) => {
        child.on("exit", r);
        child.kill("SIGTERM");
      }),
  };
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Resident memory of a process in MiB, from /proc. */
export function rssMiB(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)[1]) / 1024;
  } catch {
    return null;
  }
}

/**
 * CPU time (user + system, all threads) a process has used so far, in seconds, from /proc; null
 * where there is no /proc. The difference over a run, divided by its deliveries, is the CPU each
 * delivery cost: a figure that, unlike a rate, hardly moves with whatever else shares the machine.
 */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return null;
  }
}

/** Microseconds of CPU per item between two `cpuSeconds` readings, or null. */
export const cpuMicros = (before, after, items) => (before === null || after === null || items === 0 ? null : ((after - before) * 1e6) / items);

/** Runs `fn` over `items` with at most `concurrency` at once. */
export async function pooled(items, concurrency, fn) {
  let next = 0;
  const workers = Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

export const progress = (label, done, total) => {
  if (!process.stderr.isTTY) return;
  process.stderr.write(`\r  ${label}: ${done}/${total} (${Math.round((100 * done) / total)}%)   `);
  if (done >= total) process.stderr.write("\n");
};

/** A client of Herald's management API on `port` (64 connections): `call` answers the parsed JSON, and throws on a status of 300 or more. */
export function apiClient(port, apiKey) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 64 });
  const call = async (method, path, body) => {
    const res = await pool.request({ method, path: `/api/v1${path}`, headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" }, body: body && JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${method} ${path} → ${res.statusCode} ${text}`);
    return JSON.parse(text || "null");
  };
  return { call, close: () => pool.close() };
}

/** The benchmarks' application (uid `bench`) with `endpoints` endpoints on the receiver (`<receiverUrl>/ep<i>`); answers the API client that made it. */
export async function setupBenchApp(port, apiKey, receiverUrl, endpoints) {
  const client = apiClient(port, apiKey);
  await client.call("POST", "/applications", { name: "bench", uid: "bench" });
  for (let i = 0; i < endpoints; i++) await client.call("POST", "/applications/bench/endpoints", { url: `${receiverUrl}/ep${i}` });
  return client;
}
