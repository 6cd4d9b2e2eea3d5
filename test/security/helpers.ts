import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Logger } from "pino";
import type { HeraldConfig } from "../../src/config/config.js";
import { Herald } from "../../src/herald.js";
import type { HostResolver, ResolvedAddress } from "../../src/security/guard.js";
import type { Attempt } from "../../src/store/model.js";
import { eventually, silentLogger, tempDir } from "../helpers/herald.js";

/** 32 bytes, as the operator would write them (base64 and hex). */
export const KEY_A = Buffer.alloc(32, 0xa1).toString("base64");
export const KEY_B = Buffer.alloc(32, 0xb2).toString("hex");

export interface SecurityHerald {
  herald: Herald;
  dir: string;
  dbPath: string;
  /** Stops Herald; the temp dir stays until `cleanup`. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A Herald on a fresh SQLite file with exactly the settings given: unlike
 * `openTestHerald`, loopback is NOT allowed unless a test says so.
 */
export async function openSecurityHerald(
  settings: Record<string, string> = {},
  options: { resolve?: HostResolver; cacheMs?: number; logger?: Logger; dir?: string; config?: Partial<HeraldConfig> } = {},
): Promise<SecurityHerald> {
  const own = options.dir ? null : tempDir();
  const dir = options.dir ?? own!.dir;
  const dbPath = join(dir, "herald.db");
  const herald = await Herald.open({
    settings: { HERALD_DATABASE_URL: `sqlite:${dbPath}`, HERALD_PORT: "0", ...settings },
    config: options.config ?? {},
    logger: options.logger ?? silentLogger(),
    guard: { ...(options.resolve ? { resolve: options.resolve } : {}), ...(options.cacheMs === undefined ? {} : { cacheMs: options.cacheMs }) },
  });
  let stopped = false;
  return {
    herald,
    dir,
    dbPath,
    async stop() {
      if (!stopped) await herald.stop();
      stopped = true;
    },
    async close() {
      if (!stopped) await herald.stop();
      stopped = true;
      own?.cleanup();
    },
  };
}

/** A resolver that knows only the names it is given (tests never ask real DNS). */
export function fakeResolver(names: Record<string, string | string[] | (() => string)>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const answer = names[hostname];
    if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    const list = typeof answer === "function" ? [answer()] : Array.isArray(answer) ? answer : [answer];
    return list.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

/** A bare HTTP server on a chosen loopback address that counts what reaches it. */
export async function listenOn(
  host: string,
  port = 0,
  answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end("ok"),
): Promise<{ server: Server; port: number; hits: { path: string; headers: IncomingMessage["headers"] }[]; close: () => Promise<void> }> {
  const hits: { path: string; headers: IncomingMessage["headers"] }[] = [];
  const server = createServer((req, res) => {
    hits.push({ path: req.url ?? "", headers: req.headers });
    req.resume();
    req.on("end", () => answer(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    hits,
    close: () => {
      server.closeAllConnections();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** Waits until the message has `n` attempts recorded (newest first, as the store lists them). */
export async function attemptsOf(herald: Herald, messageId: string, n: number): Promise<Attempt[]> {
  return eventually(async () => {
    const page = await herald.store.listMessageAttempts(messageId as never, { limit: 50 });
    return page.data.length >= n ? page.data : null;
  });
}
