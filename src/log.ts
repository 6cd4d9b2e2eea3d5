import { pino, type Logger } from "pino";

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

/** The process logger: JSON lines on stdout (pretty output is the job of a log viewer). */
export function createLogger(level = "info", destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: { service: "herald" } };
  return destination ? pino(options, destination as Parameters<typeof pino>[1]) : pino(options);
}
