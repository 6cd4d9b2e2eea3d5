/**
 * Machinery of the fault-injection suite (issue 8, "Proof"): real Herald
 * processes (the built CLI, `bin/herald.js`), recording receivers on
 * 127.0.0.1, and a publishing loop at a bounded rate through the HTTP API.
 * Beside it: `store.ts` reads the store's rows, `setups.ts` starts the two
 * setups, `invariants.ts` checks what they recorded; the scenarios are the
 * `*.test.ts` files.
 *
 * `HERALD_FAULTS_BIN` runs another build's `bin/herald.js` (say, a checkout of
 * an older commit) under the same scenarios. `HERALD_FAULTS_VERBOSE=1` lists
 * every violation (not a few of each) and prints each process's output.
 */
import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { Pool } from "undici";
import { HERALD_BIN, type Spawned, spawnHerald } from "../helpers/process.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

export const API_KEY = "faults-admin-key-0123456789";
export const BIN = process.env.HERALD_FAULTS_BIN || HERALD_BIN;
export const APP = "faults";
export const VERBOSE = process.env.HERALD_FAULTS_VERBOSE === "1";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Settings every process of the suite gets: loopback receivers, quick retries, short attempts. */
export const BASE_ENV: Record<string, string> = {
  HERALD_API_KEY: API_KEY,
  HERALD_ALLOWED_NETWORKS: "127.0.0.0/8",
  // Retries within the scenario's time; ten attempts, so that no endpoint is disabled for failing.
  HERALD_RETRY_SCHEDULE: "0s,250ms,500ms,1s,1s,1s,1s,1s,1s,1s",
  HERALD_REQUEST_TIMEOUT: "2s",
  HERALD_LOG_LEVEL: "warn",
};

/** The shared helper's, re-exported for the setups. */
export { freePort } from "../helpers/process.js";

/** Stable pseudo-random choice per message: the same message is treated the same way on every attempt. */
export function bucket(messageId: string, buckets: number): number {
  return createHash("sha256").update(messageId).digest().readUInt32BE(0) % buckets;
}

// ---------------------------------------------------------------- processes

/** Every child still running: killed when this test process exits, whatever happened. */
const living = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of living) child.kill("SIGKILL");
});

/** One Herald process, with the faults a test injects into it. */
export class HeraldProcess {
  readonly spawned: Spawned;

  constructor(
    readonly name: string,
    args: string[],
    env: Record<string, string>,
  ) {
    this.spawned = spawnHerald(args, env, undefined, BIN);
    const child = this.spawned.child;
    living.add(child);
    void this.spawned.exited.then(() => living.delete(child));
  }

  get pid(): number {
    return this.spawned.child.pid!;
  }

  get alive(): boolean {
    return this.spawned.child.exitCode === null && this.spawned.child.signalCode === null;
  }

  /** SIGSTOP: the process keeps its sockets, leases and presence, and does nothing. */
  freeze(): void {
    this.spawned.child.kill("SIGSTOP");
  }

  thaw(): void {
    this.spawned.child.kill("SIGCONT");
  }

  /** SIGKILL (also works on a frozen process), and waits for the exit. */
  async kill9(): Promise<void> {
    if (this.alive) this.spawned.child.kill("SIGKILL");
    await this.spawned.exited;
  }
}

// ---------------------------------------------------------------- receivers

/** One request as a receiver saw it. */
export interface Hit {
  endpoint: string;
  messageId: string;
  /** `x-webhook-attempt`. */
  attempt: number;
  /** `webhook-timestamp` in ms: the attempt started no earlier than this (second precision). */
  startedNoEarlierThan: number;
  /** Arrival (the request fully read). */
  at: number;
  /** What the receiver did: answered 200 (it processed the message) or reset the connection. */
  answer: "ok" | "reset";
}

export interface Behaviour {
  /** How long before answering 200. Default: 2 ms. */
  delayMs?: number;
  /** Requests to answer by destroying the socket after reading the request (no response byte). */
  reset?: (messageId: string, attempt: number) => boolean;
}

/** One recording receiver per endpoint (its own origin, so its own connection pool in Herald). */
export class Receivers {
  readonly hits: Hit[] = [];
  /** Requests read and not answered yet. */
  open = 0;
  private readonly servers: Receiver[] = [];

  async add(name: string, behaviour: Behaviour = {}): Promise<string> {
    const receiver = await startReceiver((r, res) => {
      const messageId = String(r.headers["webhook-id"] ?? "");
      const attempt = Number(r.headers["x-webhook-attempt"] ?? 0);
      const reset = behaviour.reset?.(messageId, attempt) ?? false;
      const startedNoEarlierThan = Number(r.headers["webhook-timestamp"] ?? 0) * 1000;
      this.hits.push({ endpoint: name, messageId, attempt, startedNoEarlierThan, at: r.at, answer: reset ? "reset" : "ok" });
      if (reset) {
        res.socket?.destroy();
        return;
      }
      this.open++;
      setTimeout(() => {
        this.open--;
        res.end("ok");
      }, behaviour.delayMs ?? 2);
    });
    receiver.received.length = 0;
    this.servers.push(receiver);
    return `${receiver.url}/${name}`;
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()));
  }
}

// ---------------------------------------------------------------- the API and the load

export interface Reply {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several shapes
  body: any;
  /** When the answer arrived. */
  at: number;
}

export class Api {
  private readonly pool: Pool;

  constructor(readonly port: number) {
    this.pool = new Pool(`http://127.0.0.1:${port}`, { connections: 16, headersTimeout: 10_000, bodyTimeout: 10_000 });
  }

  async call(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<Reply> {
    const res = await this.pool.request({
      method,
      path: `/api/v1${path}`,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.statusCode, body: parsed, at: Date.now() };
  }

  /** The same, failing unless the answer is 2xx. */
  async ok(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<Reply> {
    const r = await this.call(method, path, body);
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
    return r;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** One publish of the load: acknowledged when `status` is 202. */
export interface Publish {
  seq: number;
  sentAt: number;
  status?: number;
  id?: string;
  ackAt?: number;
  error?: string;
}

/**
 * Publishes `ratePerSec` messages a second through the API, at most
 * `maxInFlight` at once, until stopped (or `maxMs`, a safety bound). Failed
 * publishes (the server killed, a connection terminated) are recorded, not
 * retried: only a 202 promises anything.
 */
export class Load {
  readonly publishes: Publish[] = [];
  readonly done: Promise<void>;
  private stopped = false;

  constructor(
    private readonly api: Api,
    private readonly options: { ratePerSec: number; maxInFlight?: number; maxMs?: number },
  ) {
    this.done = this.run();
  }

  acked(): Publish[] {
    return this.publishes.filter((p) => p.status === 202);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done;
  }

  private async run(): Promise<void> {
    const interval = 1000 / this.options.ratePerSec;
    const maxInFlight = this.options.maxInFlight ?? 16;
    const until = Date.now() + (this.options.maxMs ?? 60_000);
    const inflight = new Set<Promise<void>>();
    let next = Date.now();
    for (let seq = 0; !this.stopped && Date.now() < until; seq++) {
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      while (inflight.size >= maxInFlight) await Promise.race(inflight);
      if (this.stopped) break;
      const p: Promise<void> = this.publish(seq).finally(() => inflight.delete(p));
      inflight.add(p);
      // After a stall, catch up by at most one interval: the rate stays bounded.
      next = Math.max(next + interval, Date.now() - interval);
    }
    await Promise.all(inflight);
  }

  private async publish(seq: number): Promise<void> {
    const p: Publish = { seq, sentAt: Date.now() };
    this.publishes.push(p);
    try {
      const r = await this.api.call("POST", `/applications/${APP}/messages`, { eventType: "fault.tick", payload: { seq } });
      p.status = r.status;
      p.ackAt = r.at;
      if (r.status === 202) p.id = String(r.body.id);
      else p.error = JSON.stringify(r.body).slice(0, 200);
    } catch (err) {
      p.error = (err as Error).message;
    }
  }
}

/** Polls `check` every `stepMs` until it is truthy or `timeoutMs` passed; returns its last value. */
export async function until<T>(check: () => Promise<T>, timeoutMs: number, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v || Date.now() >= deadline) return v;
    await sleep(stepMs);
  }
}
