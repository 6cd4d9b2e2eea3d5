/**
 * Readable one-line logs for development (`herald serve --dev`, `npm start`):
 * a pino destination that turns each JSON line into
 *
 *     12:00:01 INFO  api     POST /api/v1/applications/petstore/messages → 202 (3 ms)
 *     12:00:01 WARN  delivery endpoint disabled endpointId=ep_01… reason=failing
 *
 * Fastify's two lines per request ("incoming request", "request completed")
 * become one. Production keeps JSON lines, for a log pipeline to read. The
 * JSON it reads has already been through the logger's redaction.
 */

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };
/** Fields every line has, or that the line's head already shows. */
const HIDDEN = new Set(["level", "time", "pid", "hostname", "service", "component", "msg", "reqId", "req", "res", "responseTime", "v"]);
/** Requests still waiting for their "request completed" line; a bound keeps a flood from growing it. */
const MAX_PENDING = 1000;

type Line = Record<string, unknown> & { level?: number; time?: number; msg?: string; component?: string; reqId?: string };

export function prettyDestination(out: { write(s: string): unknown }): { write(line: string): void } {
  const requests = new Map<string, string>();
  return {
    write(line: string) {
      let entry: Line;
      try {
        entry = JSON.parse(line) as Line;
      } catch {
        out.write(line);
        return;
      }
      const text = format(entry, requests);
      if (text !== null) out.write(`${text}\n`);
    },
  };

  function format(e: Line, pending: Map<string, string>): string | null {
    const req = e.req as { method?: string; url?: string } | undefined;
    if (e.msg === "incoming request" && e.reqId !== undefined && req) {
      if (pending.size >= MAX_PENDING) pending.clear();
      pending.set(e.reqId, `${req.method ?? "?"} ${req.url ?? "?"}`);
      return null;
    }
    let msg = e.msg ?? "";
    if (e.msg === "request completed" && e.reqId !== undefined) {
      const what = pending.get(e.reqId) ?? "request";
      pending.delete(e.reqId);
      const status = (e.res as { statusCode?: number } | undefined)?.statusCode;
      const ms = typeof e.responseTime === "number" ? ` (${Math.round(e.responseTime)} ms)` : "";
      msg = `${what} → ${status ?? "?"}${ms}`;
    }
    const time = new Date(typeof e.time === "number" ? e.time : Date.now()).toTimeString().slice(0, 8);
    const level = LEVELS[e.level ?? 30] ?? String(e.level);
    const component = (e.component ?? "herald").padEnd(8);
    const fields = Object.entries(e)
      .filter(([k]) => !HIDDEN.has(k))
      .map(([k, v]) => `${k}=${show(v)}`)
      .join(" ");
    return `${time} ${level} ${component}${msg}${fields ? ` ${fields}` : ""}`;
  }
}

function show(v: unknown): string {
  if (v !== null && typeof v === "object" && "message" in v && typeof (v as { message: unknown }).message === "string") {
    const err = v as { type?: string; message: string; code?: string };
    return JSON.stringify(`${err.type ?? "Error"}: ${err.message}${err.code ? ` (${err.code})` : ""}`);
  }
  if (typeof v === "string") return /^[\w.:/@+-]*$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}
