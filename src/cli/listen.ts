import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Command, Option } from "commander";
import { verifyWebhookSignature, WebhookVerificationError } from "herald-receiver";
import { isEndpointSecret } from "../signing/secret.js";
import { type CliIo, collect, exitWith, processIo } from "./webhook-io.js";

export interface ListenOptions {
  /** Port to listen on; 0 picks a free one. Default: 9000. */
  port?: number;
  /** Address to bind. Default: `127.0.0.1`. */
  host?: string;
  /**
   * Endpoint secret(s), `whsec_…`: when given, bad signatures are answered
   * with 401, and a malformed secret throws `invalid_secret` at start.
   * Default: none (everything is accepted).
   */
  secret?: string | string[];
  /** Where the per-webhook lines go. Default: standard output. */
  write?: (text: string) => void;
  /** The clock for the timestamp tolerance, in milliseconds. Default: `Date.now`. */
  now?: () => number;
  /** Largest body accepted, in bytes; larger ones get 413. Default: 5 MiB. */
  limitBytes?: number;
}

export interface Listener {
  readonly host: string;
  readonly port: number;
  /** `http://host:port`, for pointing an endpoint at it. */
  readonly url: string;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_LISTEN_PORT = 9000;

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    // Over the limit: the rest is read and dropped, so the answer still reaches the sender.
    req.on("end", () => resolve(size > limit ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** One request header; repeated ones joined, an empty one absent. */
function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  const text = Array.isArray(value) ? value.join(", ") : value;
  return text === undefined || text.trim() === "" ? undefined : text;
}

function prettyBody(body: Buffer): string {
  if (body.length === 0) return "(empty body)";
  const text = body.toString("utf8");
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function reply(res: ServerResponse, status: number, body: object, extra: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...extra });
  res.end(JSON.stringify(body));
}

/**
 * Checked at start, not per request: a bad secret is a mistake on the command
 * line. Herald's endpoint secrets are `whsec_` + base64, and that is what both
 * schemes need here (Herald signs with both).
 */
function endpointSecrets(secret: string | string[]): string[] {
  const list = typeof secret === "string" ? [secret] : [...secret];
  if (list.length === 0) throw new WebhookVerificationError("invalid_secret", "no secret given");
  for (const s of list) {
    if (!isEndpointSecret(s)) throw new WebhookVerificationError("invalid_secret", "must be an endpoint secret: whsec_ followed by base64");
  }
  return list;
}

/** The verdict shown after the summary line, and whether to answer 401. */
function verdict(body: Buffer, req: IncomingMessage, secrets: string[] | undefined, now: () => number): { text: string; ok: boolean } {
  if (!secrets) return { text: "(no secret given)", ok: true };
  try {
    verifyWebhookSignature(body, req.headers, secrets, { now });
    return { text: "✓ verified", ok: true };
  } catch (err) {
    if (!(err instanceof WebhookVerificationError)) throw err;
    return { text: `✗ signature invalid (${err.code}: ${err.message})`, ok: false };
  }
}

/**
 * A local webhook receiver: accepts POSTs on any path, prints one line per
 * webhook (method, path, event type, id, attempt, verdict) and the pretty
 * body, and answers 200, or 401 when secrets were given and the signature
 * does not verify. What `herald listen` runs.
 *
 * @example
 * const listener = await startListener({ port: 0, secret: "whsec_…" });
 * console.log(listener.url); // http://127.0.0.1:53121
 * await listener.close();
 */
export async function startListener(opts: ListenOptions = {}): Promise<Listener> {
  const host = opts.host ?? "127.0.0.1";
  const write = opts.write ?? ((text: string) => process.stdout.write(text));
  const now = opts.now ?? Date.now;
  const limit = opts.limitBytes ?? 5 * 1024 * 1024;
  const secrets = opts.secret === undefined ? undefined : endpointSecrets(opts.secret);

  const server = createServer((req, res) => {
    const target = req.url ?? "/";
    if (req.method !== "POST") {
      write(`${req.method} ${target}  405: herald listen accepts POST only\n`);
      req.resume();
      return reply(res, 405, { code: "method_not_allowed", message: "POST webhooks here" }, { allow: "POST" });
    }
    readBody(req, limit).then(
      (body) => {
        if (body === undefined) {
          write(`POST ${target}  413: body larger than ${limit} bytes\n`);
          return reply(res, 413, { code: "payload_too_large", message: `larger than ${limit} bytes` });
        }
        const h = (name: string) => headerValue(req, name) ?? "-";
        const id = headerValue(req, "webhook-id") ?? h("x-webhook-id");
        const check = verdict(body, req, secrets, now);
        write(`POST ${target}  ${h("x-webhook-event")}  ${id}  attempt ${h("x-webhook-attempt")}  ${check.text}\n`);
        write(`${prettyBody(body)}\n\n`);
        if (check.ok) reply(res, 200, { received: true });
        else reply(res, 401, { code: "invalid_signature", message: "signature invalid" });
      },
      () => res.destroy(),
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? DEFAULT_LISTEN_PORT, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close() {
      closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}

function parsePort(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/**
 * Adds `herald listen [--port <n>] [--host <addr>] [--secret <whsec_…>]` to the CLI.
 *
 * @example
 * const program = new Command("herald");
 * registerListen(program);
 * await program.parseAsync(process.argv);
 */
export function registerListen(program: Command, io: CliIo & { stopped?: Promise<void> } = processIo): void {
  program
    .command("listen")
    .description("run a local webhook receiver that prints every webhook it gets (the seed's 'set up your own webhook service')")
    .option("-p, --port <n>", "port to listen on (0: any free port)", String(DEFAULT_LISTEN_PORT))
    .option("--host <addr>", "address to bind", "127.0.0.1")
    .addOption(
      new Option("-s, --secret <whsec_…>", "endpoint secret: verify signatures and answer 401 to bad ones (repeatable)")
        .env("HERALD_WEBHOOK_SECRET")
        .argParser(collect),
    )
    .action(async (opts: { port: string; host: string; secret?: string[] }) => {
      const port = parsePort(opts.port);
      if (port === undefined) return exitWith(io, 2, `herald listen: --port must be a whole number from 0 to 65535, not ${JSON.stringify(opts.port)}`);
      let listener: Listener;
      try {
        listener = await startListener({ port, host: opts.host, secret: opts.secret, write: io.out });
      } catch (err) {
        if (err instanceof WebhookVerificationError) return exitWith(io, 2, `herald listen: --secret ${err.message}`);
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "EADDRINUSE") return exitWith(io, 1, `herald listen: port ${port} is already in use on ${opts.host}; choose another with --port`);
        return exitWith(io, 1, `herald listen: cannot listen on ${opts.host}:${port}: ${(err as Error).message}`);
      }
      const mode = opts.secret ? "signatures are checked" : "no secret given: every webhook is accepted";
      io.out(`Listening on ${listener.url} (${mode}). Point an endpoint at any path here; Ctrl-C stops.\n\n`);
      // Return only once stopped, so whoever awaits parseAsync keeps the process serving.
      await (io.stopped ?? untilSignal());
      await listener.close();
    });
}
