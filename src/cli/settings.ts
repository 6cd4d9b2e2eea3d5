import type { Command } from "commander";
import type { RawSettings } from "../config/config.js";

/** Each configuration variable and the flag that sets it (a flag wins over the environment). */
export const SETTING_FLAGS: readonly { variable: string; flag: string; help: string }[] = [
  { variable: "HERALD_DATABASE_URL", flag: "--database-url <url>", help: "sqlite:PATH, a file path or postgres://… (default sqlite:./herald.db)" },
  { variable: "HERALD_HOST", flag: "--host <host>", help: "where the API listens (default 127.0.0.1)" },
  { variable: "HERALD_PORT", flag: "--port <port>", help: "API port (default 8080)" },
  { variable: "HERALD_API_KEY", flag: "--api-key <key>", help: "admin API key (default: generated on first start)" },
  { variable: "HERALD_RETRY_SCHEDULE", flag: "--retry-schedule <delays>", help: "delay before each attempt (default 0s,1m,5m,30m,1h)" },
  { variable: "HERALD_REQUEST_TIMEOUT", flag: "--request-timeout <duration>", help: "per-attempt timeout (default 5s)" },
  { variable: "HERALD_TRANSFORM_TIMEOUT", flag: "--transform-timeout <duration>", help: "how long an endpoint's transformation may run per attempt (default 100ms)" },
  { variable: "HERALD_ALLOWED_NETWORKS", flag: "--allowed-networks <cidrs>", help: "CIDRs the SSRF guard lets through" },
  { variable: "HERALD_MAX_PAYLOAD_BYTES", flag: "--max-payload-bytes <n>", help: "largest payload accepted (default 262144)" },
  { variable: "HERALD_ENCRYPTION_KEY", flag: "--encryption-key <key>", help: "encrypt endpoint secrets at rest" },
  { variable: "HERALD_ROLE", flag: "--role <role>", help: "all, api or worker (default all)" },
  { variable: "HERALD_DELIVERY_THREAD", flag: "--delivery-thread <on|off>", help: "herald serve: deliver from a thread of its own (default off)" },
  { variable: "HERALD_API_RATE_LIMIT", flag: "--api-rate-limit <n>", help: "management-API requests per second per key, 0 = off (default 100)" },
  { variable: "HERALD_PUBLIC_URL", flag: "--public-url <url>", help: "base URL for portal links (default: from the request)" },
  { variable: "HERALD_OPERATIONAL_WEBHOOK_URL", flag: "--operational-webhook-url <url>", help: "where Herald sends its operational events" },
  { variable: "HERALD_OPERATIONAL_WEBHOOK_SECRET", flag: "--operational-webhook-secret <secret>", help: "whsec_ secret for the operational webhook" },
  { variable: "HERALD_BROKER_TLS_CERT", flag: "--broker-tls-cert <file>", help: "client certificate (PEM) for brokers over TLS" },
  { variable: "HERALD_BROKER_TLS_KEY", flag: "--broker-tls-key <file>", help: "its private key (PEM)" },
  { variable: "HERALD_RETENTION", flag: "--retention <age>", help: "delete history older than this, e.g. 30d (default off)" },
  { variable: "HERALD_LEASE", flag: "--lease <duration>", help: "how long a worker holds a delivery unless it renews it (default 60s)" },
  { variable: "HERALD_LOG_LEVEL", flag: "--log-level <level>", help: "fatal … trace, or silent (default info)" },
];

export function addSettingFlags(cmd: Command): Command {
  for (const s of SETTING_FLAGS) cmd.option(s.flag, `${s.help} [${s.variable}]`);
  return cmd;
}

/** The environment, overlaid with whatever flags were given. */
export function settingsFrom(env: NodeJS.ProcessEnv, opts: Record<string, unknown>): RawSettings {
  const out: RawSettings = { ...env };
  for (const s of SETTING_FLAGS) {
    const key = s.flag.slice(2, s.flag.indexOf(" ")).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const v = opts[key];
    if (typeof v === "string") out[s.variable] = v;
  }
  return out;
}
