import { ConfigError } from "../config/config.js";
import { HeraldError } from "../core/errors.js";

/** Prints one clear line and exits non-zero: how the CLI reports bad input and configuration. */
export function fail(err: unknown): never {
  const message =
    err instanceof ConfigError || err instanceof HeraldError
      ? err.message
      : err instanceof Error
        ? `${err.message}${(err as { code?: string }).code ? ` (${(err as { code?: string }).code})` : ""}`
        : String(err);
  process.stderr.write(`herald: ${message}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
}

/** First SIGTERM/SIGINT stops gracefully; a second one exits at once. */
export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`herald: error while stopping on ${signal}: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", handler);
  process.on("SIGINT", handler);
}
