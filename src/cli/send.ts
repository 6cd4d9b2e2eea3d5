import { readFileSync } from "node:fs";
import { STATUS_CODES } from "node:http";
import { type Command, Option } from "commander";
import { Agent, request } from "undici";
import { parseDuration } from "../core/duration.js";
import { newId } from "../core/ids.js";
import { USER_AGENT } from "../delivery/request.js";
import { isEndpointSecret } from "../signing/secret.js";
import { signatureHeaders, signer } from "../signing/sign.js";
import { type CliIo, collect, exitWith, processIo } from "./webhook-io.js";

export interface SendOptions {
  /** Where to POST; any http(s) URL (no SSRF guard: the user names it). */
  url: string;
  eventType: string;
  /** The payload; sent as compact `JSON.stringify` output, as a delivery would be. */
  payload: unknown;
  /** Endpoint secret(s), newest first; more than one signs as during a rotation. */
  secret: string | readonly string[];
  /** Extra headers. Herald's own headers win over them, as in a delivery. */
  headers?: Record<string, string>;
  /** The message id. Default: a new `msg_…` id. */
  id?: string;
  /** How long to wait for the answer. Default: 5000 (Herald's default request timeout). */
  timeoutMs?: number;
  /** The clock for `webhook-timestamp`, in milliseconds. Default: `Date.now`. */
  now?: () => number;
}

export interface SendResult {
  status: number;
  /** 2xx: what a delivery would count as a success. */
  ok: boolean;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  durationMs: number;
  /** What was sent, for printing and for tests. */
  sent: { headers: Record<string, string>; body: string };
}

/** A send that could not get an answer (refused, reset, timed out, bad URL). */
export class SendError extends Error {
  override name = "SendError";
}

/**
 * The headers of a delivery's first attempt, per the wire contract (§4):
 * content type, user agent, both signature schemes, event type, id, attempt 1.
 */
export function deliveryHeaders(opts: SendOptions, body: string, id: string): Record<string, string> {
  const secrets = typeof opts.secret === "string" ? [opts.secret] : opts.secret;
  const timestamp = Math.floor((opts.now ?? Date.now)() / 1000);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = v;
  return Object.assign(headers, {
    "content-type": "application/json",
    "user-agent": USER_AGENT,
    ...signatureHeaders(secrets.map(signer), id, timestamp, body),
    "x-webhook-event": opts.eventType,
    "x-webhook-id": id,
    "x-webhook-attempt": "1",
  });
}

/**
 * Sends one signed webhook, with the same headers and body bytes as a real
 * delivery, and returns the answer. Redirects are not followed (a delivery
 * counts them as failures). Throws {@link SendError} when no answer came.
 *
 * @example
 * const res = await sendWebhook({ url: "http://127.0.0.1:9000/hooks", eventType: "order.created",
 *   payload: { orderId: "ord_1" }, secret: "whsec_…" });
 * res.status; // 200
 */
export async function sendWebhook(opts: SendOptions): Promise<SendResult> {
  const body = JSON.stringify(opts.payload);
  const id = opts.id ?? newId("msg");
  const headers = deliveryHeaders(opts, body, id);
  const timeoutMs = opts.timeoutMs ?? 5000;
  // A private agent, closed afterwards, so no keep-alive socket holds the CLI open.
  const agent = new Agent({ connect: { timeout: timeoutMs } });
  const started = performance.now();
  try {
    const res = await request(opts.url, {
      method: "POST",
      headers,
      body,
      dispatcher: agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.body.text();
    return {
      status: res.statusCode,
      ok: res.statusCode >= 200 && res.statusCode < 300,
      headers: res.headers,
      body: text,
      durationMs: Math.round(performance.now() - started),
      sent: { headers, body },
    };
  } catch (err) {
    throw new SendError(describeFailure(err, opts.url, timeoutMs));
  } finally {
    await agent.close();
  }
}

function describeFailure(err: unknown, url: string, timeoutMs: number): string {
  const e = err as Error & { code?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code;
  if (e.name === "TimeoutError" || e.name === "AbortError" || /TIMEOUT/.test(code ?? "")) {
    return `no answer from ${url} within ${timeoutMs} ms`;
  }
  const detail = e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message;
  // undici's messages usually name the code already ("connect ECONNREFUSED 127.0.0.1:1").
  return `could not reach ${url}: ${code && !detail.includes(code) ? `${code} ` : ""}${detail}`;
}

/** Bad command-line input: one line on stderr and exit code 2. */
export class InputError extends Error {
  override name = "InputError";
}

export interface SendFlags {
  eventType?: string;
  data?: string;
  secret?: string[];
  header?: string[];
  id?: string;
  timeout: string;
}

/** Reads `--data`: inline JSON, `@file`, or `@-` for standard input. */
function readData(data: string, readStdin: () => string): unknown {
  let text = data;
  if (data.startsWith("@")) {
    const path = data.slice(1);
    try {
      text = path === "-" ? readStdin() : readFileSync(path, "utf8");
    } catch (err) {
      throw new InputError(`--data ${data}: cannot read ${path === "-" ? "standard input" : path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(`--data${data.startsWith("@") ? ` ${data}` : ""} is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * Turns the command line of `herald send` into {@link SendOptions}, or throws
 * {@link InputError} with a message that never quotes the secret.
 */
export function parseSendFlags(url: string | undefined, flags: SendFlags, readStdin = () => readFileSync(0, "utf8")): SendOptions {
  // Required values are checked here rather than by commander, so that every
  // bad input exits with 2 and one line.
  if (url === undefined) throw new InputError("missing <url>: where to send the webhook");
  if (flags.eventType === undefined || flags.eventType.trim() === "") throw new InputError("--event-type is required, e.g. --event-type order.created");
  if (flags.data === undefined) throw new InputError("--data is required: inline JSON, @file or @-");
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InputError(`${JSON.stringify(url)} is not a URL (expected http://… or https://…)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new InputError(`the URL must be http:// or https://, not ${parsed.protocol}`);
  if (flags.secret === undefined || flags.secret.length === 0) throw new InputError("--secret is required (or HERALD_WEBHOOK_SECRET): the endpoint secret that signs the webhook");
  for (const secret of flags.secret) {
    if (!isEndpointSecret(secret)) throw new InputError("--secret must be an endpoint secret: whsec_ followed by base64");
  }
  const headers: Record<string, string> = {};
  for (const h of flags.header ?? []) {
    const colon = h.indexOf(":");
    const name = colon > 0 ? h.slice(0, colon).trim() : "";
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new InputError(`--header ${JSON.stringify(h)}: expected name:value`);
    headers[name.toLowerCase()] = h.slice(colon + 1).trim();
  }
  const timeoutMs = parseDuration(flags.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) throw new InputError(`--timeout ${JSON.stringify(flags.timeout)}: expected a duration such as 5s or 1500ms`);
  if (flags.id !== undefined && flags.id.trim() === "") throw new InputError("--id must not be empty");
  return { url: parsed.href, eventType: flags.eventType, payload: readData(flags.data, readStdin), secret: flags.secret, headers, id: flags.id, timeoutMs };
}

function printResult(io: CliIo, opts: SendOptions, result: SendResult, verbose: boolean): void {
  const sent = result.sent.headers;
  io.out(`→ POST ${opts.url}  ${opts.eventType}  ${sent["webhook-id"]}  attempt 1\n`);
  if (verbose) for (const [k, v] of Object.entries(sent)) io.out(`  ${k}: ${v}\n`);
  io.out(`← ${result.status} ${STATUS_CODES[result.status] ?? ""}  (${result.durationMs} ms)\n`);
  for (const [k, v] of Object.entries(result.headers)) {
    for (const value of Array.isArray(v) ? v : [v]) io.out(`${k}: ${value}\n`);
  }
  io.out(`\n${result.body}${result.body.endsWith("\n") || result.body === "" ? "" : "\n"}`);
}

/**
 * Adds `herald send <url> --event-type T --data JSON|@file --secret S
 * [--header k:v …] [--id msg_…]` to the CLI: one signed webhook, the seed's
 * "use Apidog to send data to this service". Exits 1 on a non-2xx answer or
 * no answer, 2 on bad input.
 *
 * @example
 * const program = new Command("herald");
 * registerSend(program);
 * await program.parseAsync(process.argv);
 */
export function registerSend(program: Command, io: CliIo = processIo): void {
  program
    .command("send")
    .description("send one signed webhook, with the same headers as a delivery, to any URL")
    .argument("[url]", "where to POST it (any http(s) URL: no SSRF guard)")
    .option("-e, --event-type <type>", "event type, sent in x-webhook-event (required)")
    .option("-d, --data <json|@file>", "the payload (required): inline JSON, @path/to/file.json, or @- for standard input")
    .addOption(
      new Option("-s, --secret <whsec_…>", "endpoint secret that signs it (required; repeat to sign with several, newest first)")
        .env("HERALD_WEBHOOK_SECRET")
        .argParser(collect),
    )
    .option("-H, --header <name:value>", "extra header (repeatable); Herald's own headers win, as in a delivery", collect)
    .option("--id <msg_…>", "message id (webhook-id); default: a new msg_ id")
    .option("--timeout <duration>", "how long to wait for the answer", "5s")
    .option("-v, --verbose", "also print the headers that were sent")
    .action(async (url: string | undefined, flags: SendFlags & { verbose?: boolean }) => {
      let opts: SendOptions;
      try {
        opts = parseSendFlags(url, flags);
      } catch (err) {
        if (err instanceof InputError) return exitWith(io, 2, `herald send: ${err.message}`);
        throw err;
      }
      let result: SendResult;
      try {
        result = await sendWebhook(opts);
      } catch (err) {
        if (err instanceof SendError) return exitWith(io, 1, `herald send: ${err.message}`);
        throw err;
      }
      printResult(io, opts, result, flags.verbose === true);
      if (!result.ok) exitWith(io, 1, `herald send: ${opts.url} answered ${result.status}, not 2xx`);
    });
}
