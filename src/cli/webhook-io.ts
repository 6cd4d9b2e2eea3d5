/**
 * Where `herald listen` and `herald send` print, and how they end with a
 * failure. Injected so tests can run the registered commands in-process.
 */
export interface CliIo {
  /** Normal output (standard output). */
  out: (text: string) => void;
  /** One line about a failure (standard error). */
  err: (line: string) => void;
  /** Sets the exit code the process ends with; the command then returns. */
  exit: (code: number) => void;
}

export const processIo: CliIo = {
  out: (text) => void process.stdout.write(text),
  err: (line) => void process.stderr.write(`${line}\n`),
  // exitCode rather than exit(): pending output is flushed and sockets close first.
  exit: (code) => {
    process.exitCode = code;
  },
};

/** Commander argument parser for a repeatable option: `--secret a --secret b` → `["a", "b"]`. */
export function collect(value: string, previous: string[] | string | undefined): string[] {
  // From an environment variable commander passes no previous value.
  return [...(Array.isArray(previous) ? previous : []), value];
}

/**
 * One line on stderr and an exit code: 2 for bad input, 1 when the operation
 * failed. Not `cmd.error()`, which would print the whole help after the line
 * when the program uses `showHelpAfterError()`.
 */
export function exitWith(io: CliIo, exitCode: number, line: string): void {
  io.err(line);
  io.exit(exitCode);
}
