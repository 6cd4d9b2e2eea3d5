import type { FastifyInstance } from "fastify";
import type { DeliveryStatus, EndpointStatus } from "../../store/model.js";
import type { Store } from "../../store/store.js";
import { VERSION } from "../../version.js";
import type { ApiContext } from "../context.js";

/**
 * `GET /metrics`: Prometheus text format (0.0.4), without auth (like `/healthz`;
 * docs/dashboard.md says not to expose it publicly).
 *
 * Two kinds of figures:
 * - in-process: uptime, memory, CPU, HTTP responses served by this process;
 * - from the store: deliveries by status, attempts in the last 5 minutes,
 *   applications and endpoints. The `Store` interface has no global aggregate,
 *   so these are summed over `endpointStats` per endpoint: one query per
 *   endpoint, at most `MAX_SCANNED_ENDPOINTS` of them, and cached for
 *   `STORE_CACHE_MS` so frequent or concurrent scrapes cost one scan.
 */

/** The window of `herald_attempts_recent`. */
const RECENT_WINDOW_MS = 5 * 60_000;
/** How long one scan of the store answers scrapes. */
const STORE_CACHE_MS = 10_000;
/** Past this many endpoints the scan stops and says so (`herald_metrics_store_scan_truncated 1`). */
const MAX_SCANNED_ENDPOINTS = 500;
const PAGE = 250;

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
const DELIVERY_STATUSES: readonly DeliveryStatus[] = ["pending", "succeeded", "failed", "skipped"];
const ENDPOINT_STATUSES: readonly EndpointStatus[] = ["active", "disabled"];

interface StoreFigures {
  applications: number;
  endpoints: Record<EndpointStatus, number>;
  deliveries: Record<DeliveryStatus, number>;
  attempts: { succeeded: number; failed: number };
  truncated: boolean;
  seconds: number;
}

type Labels = Record<string, string>;
interface Family {
  name: string;
  type: "counter" | "gauge";
  help: string;
  samples: { labels?: Labels; value: number }[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
const escapeHelp = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const formatValue = (v: number) => (Number.isNaN(v) ? "NaN" : v === Infinity ? "+Inf" : v === -Infinity ? "-Inf" : String(v));

/** Renders metric families in the Prometheus text exposition format 0.0.4. */
export function renderPrometheus(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {});
      const rendered = labels.length === 0 ? "" : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
      lines.push(`${f.name}${rendered} ${formatValue(s.value)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Sums what the store can tell per endpoint. */
async function scanStore(store: Store, now: number): Promise<StoreFigures> {
  const started = performance.now();
  const figures: StoreFigures = {
    applications: 0,
    endpoints: { active: 0, disabled: 0 },
    deliveries: { pending: 0, succeeded: 0, failed: 0, skipped: 0 },
    attempts: { succeeded: 0, failed: 0 },
    truncated: false,
    seconds: 0,
  };
  let scanned = 0;
  let appCursor: string | undefined;
  scan: do {
    const apps = await store.listApplications({ limit: PAGE, cursor: appCursor });
    for (const app of apps.data) {
      figures.applications++;
      let epCursor: string | undefined;
      do {
        const endpoints = await store.listEndpoints(app.id, { limit: PAGE, cursor: epCursor });
        for (const ep of endpoints.data) {
          if (scanned === MAX_SCANNED_ENDPOINTS) {
            figures.truncated = true;
            break scan;
          }
          scanned++;
          figures.endpoints[ep.status]++;
          const stats = await store.endpointStats(ep.id, now - RECENT_WINDOW_MS, now);
          figures.attempts.succeeded += stats.succeeded;
          figures.attempts.failed += stats.failed;
          for (const status of DELIVERY_STATUSES) figures.deliveries[status] += stats.deliveries[status];
        }
        epCursor = endpoints.nextCursor ?? undefined;
      } while (epCursor);
    }
    appCursor = apps.nextCursor ?? undefined;
  } while (appCursor);
  figures.seconds = (performance.now() - started) / 1000;
  return figures;
}

function storeFamilies(figures: StoreFigures | null): Family[] {
  const families: Family[] = [
    {
      name: "herald_metrics_store_up",
      type: "gauge",
      help: "1 if the last scan of the store for these metrics succeeded, else 0 (and the store figures are left out).",
      samples: [{ value: figures ? 1 : 0 }],
    },
  ];
  if (!figures) return families;
  const partial = figures.truncated ? " (partial: see herald_metrics_store_scan_truncated)" : "";
  families.push(
    {
      name: "herald_applications",
      type: "gauge",
      help: `Applications in the store${partial}.`,
      samples: [{ value: figures.applications }],
    },
    {
      name: "herald_endpoints",
      type: "gauge",
      help: `Endpoints in the store by status${partial}.`,
      samples: ENDPOINT_STATUSES.map((status) => ({ labels: { status }, value: figures.endpoints[status] })),
    },
    {
      name: "herald_deliveries",
      type: "gauge",
      help: `Deliveries (one message to one endpoint) in the store by status${partial}.`,
      samples: DELIVERY_STATUSES.map((status) => ({ labels: { status }, value: figures.deliveries[status] })),
    },
    {
      name: "herald_attempts_recent",
      type: "gauge",
      help: `HTTP attempts made in the last 5 minutes by outcome, by every Herald process on this store${partial}.`,
      samples: [
        { labels: { result: "succeeded" }, value: figures.attempts.succeeded },
        { labels: { result: "failed" }, value: figures.attempts.failed },
      ],
    },
    {
      name: "herald_metrics_store_scan_truncated",
      type: "gauge",
      help: `1 if the store has more than ${MAX_SCANNED_ENDPOINTS} endpoints and the store figures cover only the first ones.`,
      samples: [{ value: figures.truncated ? 1 : 0 }],
    },
    {
      name: "herald_metrics_store_scan_seconds",
      type: "gauge",
      help: "How long the last scan of the store for these metrics took.",
      samples: [{ value: figures.seconds }],
    },
  );
  return families;
}

/**
 * Registers `GET /metrics`, and an `onResponse` hook on `app` that counts the
 * responses this server sends. Register it before the other routes' plugins
 * so the hook reaches them.
 */
export function metricsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  // Per server, not per module: two servers in one process (tests) count apart.
  const responses = new Map<string, { method: string; code: string; n: number }>();
  app.addHook("onResponse", async (req, reply) => {
    const key = `${req.method} ${reply.statusCode}`;
    const counter = responses.get(key);
    if (counter) counter.n++;
    else responses.set(key, { method: req.method, code: String(reply.statusCode), n: 1 });
  });

  let cache: { at: number; figures: StoreFigures | null } | null = null;
  let scanning: Promise<StoreFigures | null> | null = null;
  const storeFigures = async (): Promise<StoreFigures | null> => {
    const now = Date.now();
    if (cache && now - cache.at < STORE_CACHE_MS) return cache.figures;
    scanning ??= scanStore(ctx.store, now)
      .catch((err: unknown) => {
        ctx.logger.warn({ err }, "metrics: could not read the store");
        return null;
      })
      .then((figures) => {
        cache = { at: Date.now(), figures };
        scanning = null;
        return figures;
      });
    return scanning;
  };

  app.get("/metrics", async (_req, reply) => {
    const figures = await storeFigures();
    const memory = process.memoryUsage();
    const cpu = process.cpuUsage();
    const families: Family[] = [
      { name: "herald_info", type: "gauge", help: "Always 1; the version label names the running Herald.", samples: [{ labels: { version: VERSION, role: ctx.config.role }, value: 1 }] },
      { name: "herald_uptime_seconds", type: "gauge", help: "Seconds since this process started.", samples: [{ value: process.uptime() }] },
      {
        name: "process_start_time_seconds",
        type: "gauge",
        help: "Start time of the process since the Unix epoch in seconds.",
        samples: [{ value: Math.round(Date.now() / 1000 - process.uptime()) }],
      },
      { name: "process_cpu_seconds_total", type: "counter", help: "User and system CPU time spent, in seconds.", samples: [{ value: (cpu.user + cpu.system) / 1e6 }] },
      { name: "process_resident_memory_bytes", type: "gauge", help: "Resident memory size in bytes.", samples: [{ value: memory.rss }] },
      { name: "nodejs_heap_used_bytes", type: "gauge", help: "V8 heap in use, in bytes.", samples: [{ value: memory.heapUsed }] },
      {
        name: "herald_http_responses_total",
        type: "counter",
        help: "HTTP responses sent by this process since it started, by method and status code.",
        samples: [...responses.values()].map((r) => ({ labels: { method: r.method, code: r.code }, value: r.n })),
      },
      ...storeFamilies(figures),
    ];
    return reply.type(CONTENT_TYPE).send(renderPrometheus(families));
  });
}
