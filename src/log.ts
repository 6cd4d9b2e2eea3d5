import { pino, type Logger } from "pino";
import { prettyDestination } from "./log-pretty.js";

/**
 * Paths that must never reach a log line. Secrets are not logged on purpose
 * anywhere; this list is the net under that rule.
 */
export const REDACT_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers[\"idempotency-key\"]",
  "headers.authorization",
  "*.secret",
  "*.apiKey",
  "*.token",
  "*.password",
  "*.clientSecret",
  "*.authentication",
  "secret",
  "apiKey",
  "token",
];

/**
 * The process logger: JSON lines on stdout, for a log pipeline; with `pretty`
 * (development mode), one readable line per event instead (`log-pretty.ts`).
 * Redaction applies before either.
 */
export function createLogger(level = "info", destination?: NodeJS.WritableStream, options: { pretty?: boolean } = {}): Logger {
  const settings = { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: "herald" } };
  if (options.pretty) return pino(settings, prettyDestination(destination ?? process.stdout) as Parameters<typeof pino>[1]);
  // Without a destination pino writes to stdout through its own fast, asynchronous writer.
  return destination ? pino(settings, destination as Parameters<typeof pino>[1]) : pino(settings);
}

/** A query parameter name kept in logs: short, and shaped like a name (longer or odd ones may be credentials). */
const LOGGABLE_NAME = /^[A-Za-z0-9_.-]{1,32}$/;

/**
 * A request URL as it may be logged: the path as is, and of the query only
 * the parameter names, every value replaced (`/x?api_key=[redacted]&limit=[redacted]`).
 * A name that does not look like one, and a bare `?word` (it may be a key sent
 * as `?hk_…`), are replaced too.
 *
 * @example
 * redactQuery("/api/v1/applications?api_key=hk_abc&limit=5"); // "/api/v1/applications?api_key=[redacted]&limit=[redacted]"
 */
export function redactQuery(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const pairs = url
    .slice(q + 1)
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return "[redacted]";
      const name = pair.slice(0, eq);
      return `${LOGGABLE_NAME.test(name) ? name : "[redacted]"}=[redacted]`;
    });
  return `${url.slice(0, q)}?${pairs.join("&")}`;
}

/** How the API logs a request: Fastify's fields, the URL through `redactQuery`. */
export function requestSerializer(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return {
    method: req.method,
    url: typeof req.url === "string" ? redactQuery(req.url) : undefined,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}
