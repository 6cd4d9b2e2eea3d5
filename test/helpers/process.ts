import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

export const HERALD_BIN = fileURLToPath(new URL("../../bin/herald.js", import.meta.url));

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first match of `pattern` in stdout/stderr. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Runs the built `herald` CLI (npm test builds dist/ first); `bin` runs another build's `bin/herald.js`. */
export function spawnHerald(args: string[], env: Record<string, string>, cwd?: string, bin: string = HERALD_BIN): Spawned {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH ?? "", HERALD_LOG_LEVEL: "warn", ...env },
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(pattern);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`timed out waiting for ${pattern}; output so far:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
        void exited.then(() => {
          if (!out.match(pattern)) {
            listeners.delete(check);
            clearTimeout(timer);
            reject(new Error(`process exited before ${pattern}; output:\n${out}`));
          }
        });
      });
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on now: for a `herald` child to listen on. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/**
 * POSTs to the admin API of the `herald` child on `port` with `key`, over an
 * undici pool of `connections`: `call` answers the JSON body and throws on any
 * status from 300 up; `close` closes the pool.
 */
export function adminPoster(port: number, key: string, connections: number) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections });
  const call = async <T = Record<string, unknown>>(path: string, body: unknown): Promise<T> => {
    const res = await pool.request({
      method: "POST",
      path: `/api/v1${path}`,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new Error(`${path} → ${res.statusCode} ${text}`);
    return JSON.parse(text) as T;
  };
  return { call, close: () => pool.close() };
}
