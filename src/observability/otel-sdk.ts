import type { Logger } from "pino";
import { VERSION } from "../version.js";

/**
 * Turns tracing on for a Herald process (`herald serve`, `herald worker`):
 * only when `HERALD_OTEL` or `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and only
 * then are the OpenTelemetry SDK packages loaded (dynamic imports), so a
 * process that does not trace never pays for them.
 *
 * `HERALD_OTEL`:
 * - unset, `0`, `false`, `off`: off (unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set, which means `otlp`);
 * - `1`, `true`, `on`, `otlp`: spans exported with OTLP over HTTP (JSON bodies) to
 *   `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`
 *   (default `http://localhost:4318`), with the exporter's other standard variables;
 * - `console`: spans printed to stdout (to try it out).
 *
 * The service is named by `OTEL_SERVICE_NAME` (default `herald`). Sampling
 * follows `OTEL_TRACES_SAMPLER` (default: parent-based, always on). The W3C
 * trace-context propagator is registered globally.
 */

export type TracingMode = "off" | "otlp" | "console";

/** What `HERALD_OTEL` and `OTEL_EXPORTER_OTLP_ENDPOINT` ask for. Throws a `TypeError` on an unknown `HERALD_OTEL`. */
export function tracingMode(env: Record<string, string | undefined>): TracingMode {
  const raw = (env.HERALD_OTEL ?? "").trim().toLowerCase();
  if (raw === "" || raw === "0" || raw === "false" || raw === "off") {
    return raw === "" && (env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? "").trim() !== "" ? "otlp" : "off";
  }
  if (raw === "1" || raw === "true" || raw === "on" || raw === "otlp") return "otlp";
  if (raw === "console") return "console";
  throw new TypeError(`HERALD_OTEL must be one of 1, otlp, console, 0 (got ${JSON.stringify(env.HERALD_OTEL)})`);
}

/**
 * Registers a global tracer provider as configured; returns how to flush and
 * stop it (call it after Herald stopped), or null when tracing is off.
 */
export async function startTracing(env: Record<string, string | undefined>, logger: Logger): Promise<(() => Promise<void>) | null> {
  const mode = tracingMode(env);
  if (mode === "off") return null;
  const [{ NodeTracerProvider }, base, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/sdk-trace-base"),
    import("@opentelemetry/resources"),
  ]);
  let exporter: import("@opentelemetry/sdk-trace-base").SpanExporter;
  if (mode === "console") exporter = new base.ConsoleSpanExporter();
  else {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    exporter = new OTLPTraceExporter();
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": env.OTEL_SERVICE_NAME || "herald", "service.version": VERSION }),
    spanProcessors: [mode === "console" ? new base.SimpleSpanProcessor(exporter) : new base.BatchSpanProcessor(exporter)],
  });
  // Also sets the W3C propagator and the async-hooks context manager.
  provider.register();
  logger.info({ mode }, "tracing on (OpenTelemetry)");
  return async () => {
    try {
      await provider.shutdown();
    } catch (err) {
      logger.warn({ err }, "tracing: flushing the last spans failed");
    }
  };
}
