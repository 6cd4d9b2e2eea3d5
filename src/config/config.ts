import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseDuration } from "../core/duration.js";
import { DEFAULT_SCHEDULE, type RetryPolicy } from "../core/retry.js";
import { ConfigError } from "../core/errors.js";
import { parseCidr } from "../security/ip.js";
import { secretProblem } from "../signing/secret.js";
import type { StoreLocation } from "../store/open.js";
import { type ConfigOverrides, overridesAsSettings } from "./overrides.js";

export type { ConfigOverrides } from "./overrides.js";

export type { StoreLocation } from "../store/open.js";

export type Role = "all" | "api" | "worker";

/** Tuning of the delivery engine; every field has a default. */
export interface DeliveryTuning {
  /** Attempts in flight at once, across all endpoints. Default: 256. */
  concurrency: number;
  /** Attempts in flight at once to one endpoint, so a slow receiver cannot take every slot. Default: 32. */
  perEndpointConcurrency: number;
  /** Deliveries claimed per database round trip. Default: 200. */
  claimBatch: number;
  /**
   * `HERALD_LEASE`: how long a worker's hold on a delivery lasts unless it
   * renews it (it does, every third of this, for everything it holds, in
   * flight included); after that other workers may take the delivery. Longer
   * rides out longer pauses (GC, a stopped VM); shorter hands a dead worker's
   * work on sooner. 1s to 10m. Default: 60s.
   */
  leaseMs: number;
  /** Longest sleep between looks for due work when nothing wakes the worker. Default: 1000 ms. */
  pollIntervalMs: number;
  /** How long a graceful stop waits for in-flight attempts. Default: 10s. */
  shutdownTimeoutMs: number;
}

/** Herald's configuration, resolved once at start-up from environment, flags and options. */
export interface HeraldConfig {
  /** `HERALD_DATABASE_URL`. Default: `sqlite:./herald.db`. */
  store: StoreLocation;
  /** `HERALD_HOST`. Default: `127.0.0.1`. */
  host: string;
  /** `HERALD_PORT`. Default: 8080. */
  port: number;
  /** `HERALD_API_KEY`. Default: generated on first start, printed once, stored hashed. */
  apiKey: string | undefined;
  /** `HERALD_RETRY_SCHEDULE`. Default: `0s,1m,5m,30m,1h` with ±10 % jitter. */
  retry: RetryPolicy;
  /** `HERALD_REQUEST_TIMEOUT`. Default: 5s. */
  requestTimeoutMs: number;
  /** `HERALD_TRANSFORM_TIMEOUT`: how long an endpoint's transformation may run per attempt (10 ms – 10 s). Default: 100ms. */
  transformTimeoutMs: number;
  /** `HERALD_ALLOWED_NETWORKS` (CIDRs). Default: none. */
  allowedNetworks: string[];
  /** `HERALD_MAX_PAYLOAD_BYTES`. Default: 262144. */
  maxPayloadBytes: number;
  /** `HERALD_ENCRYPTION_KEY`. Default: unset (secrets stored in plain text). */
  encryptionKey: string | undefined;
  /** `HERALD_ROLE`. Default: `all`. */
  role: Role;
  /**
   * `HERALD_DEV` (`herald serve --dev`): `1`/`true` or `0`/`false`. Adds
   * loopback (`127.0.0.0/8`, `::1/128`) to `allowedNetworks`. Default: false.
   */
  dev: boolean;
  /**
   * `HERALD_DELIVERY_THREAD` (`on`/`off`, also `1`/`0`, `true`/`false`):
   * deliver from a thread of its own (role `all` with a database file only;
   * ignored otherwise). Default: off (docs/architecture.md, "Threads").
   */
  deliveryThread: boolean;
  /** `HERALD_LOG_LEVEL`. Default: `info`. */
  logLevel: string;
  /**
   * `HERALD_API_RATE_LIMIT`: management-API requests per second per key (token
   * bucket, burst of twice as many); publishes are not counted; 0 disables. Default: 100.
   */
  apiRateLimit: number;
  /**
   * `HERALD_PUBLIC_URL`: the base URL people reach Herald at (portal links).
   * Default: unset (taken from the request's Host header).
   */
  publicUrl: string | undefined;
  /**
   * `HERALD_OPERATIONAL_WEBHOOK_URL` and `HERALD_OPERATIONAL_WEBHOOK_SECRET`: where
   * Herald sends its own operational events, signed with that secret (generated
   * and kept when unset). Default: unset (events are only recorded).
   */
  operationalWebhook: { url: string; secret: string | undefined } | undefined;
  /**
   * `HERALD_RETENTION`: age after which attempts, operational events and
   * messages with nothing pending (with their deliveries) are deleted, in small
   * batches by the delivering processes; at least 1h, or `off`. Default: off.
   */
  retentionMs: number | null;
  /**
   * `HERALD_BROKER_TLS_CERT` and `HERALD_BROKER_TLS_KEY`: PEM files of the
   * client certificate and its key that Herald presents to brokers over TLS
   * (`amqps:`, `tls:`, `rediss:`), for brokers that authenticate clients by
   * certificate. Read and checked at start. Default: none.
   */
  brokerClientCert: { cert: Buffer; key: Buffer } | undefined;
  delivery: DeliveryTuning;
}

// Defined in core (the security module throws it too); re-exported where configuration lives.
export { ConfigError } from "../core/errors.js";

export const DEFAULT_DELIVERY: DeliveryTuning = {
  concurrency: 256,
  perEndpointConcurrency: 32,
  claimBatch: 200,
  leaseMs: 60_000,
  pollIntervalMs: 1000,
  shutdownTimeoutMs: 10_000,
};

/** Raw settings by variable name (`HERALD_PORT` …); flags are mapped onto the same names. */
export type RawSettings = Partial<Record<string, string | undefined>>;

export function parseStoreLocation(value: string): StoreLocation {
  if (/^postgres(ql)?:\/\//.test(value)) return { kind: "postgres", url: value };
  if (value.startsWith("sqlite:")) {
    const path = value.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (!path) throw new ConfigError("HERALD_DATABASE_URL: expected sqlite:PATH, a file path or postgres://…");
    return { kind: "sqlite", path };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new ConfigError(`HERALD_DATABASE_URL: unsupported scheme in ${JSON.stringify(value)}; expected sqlite:PATH, a file path or postgres://…`);
  }
  if (!value) throw new ConfigError("HERALD_DATABASE_URL: expected sqlite:PATH, a file path or postgres://…");
  return { kind: "sqlite", path: value };
}

function duration(name: string, value: string, min: number, max: number): number {
  const ms = parseDuration(value);
  if (ms === undefined || ms < min || ms > max) {
    throw new ConfigError(`${name}: expected a duration such as 500ms, 5s, 1m (between ${min} ms and ${max} ms), got ${JSON.stringify(value)}`);
  }
  return ms;
}

function integer(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

export function parseSchedule(value: string): number[] {
  const parts = value.split(",").map((p) => p.trim());
  const delays = parts.map((p) => parseDuration(p));
  if (parts.length === 0 || parts.length > 50 || delays.some((d) => d === undefined || d > 30 * 86_400_000)) {
    throw new ConfigError(`HERALD_RETRY_SCHEDULE: expected comma-separated durations such as 0s,1m,5m,30m,1h, got ${JSON.stringify(value)}`);
  }
  return delays as number[];
}

function httpUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${name}: expected an absolute http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`${name}: expected an absolute http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

function operationalWebhook(url: string | undefined, secret: string | undefined): HeraldConfig["operationalWebhook"] {
  if (url === undefined) {
    if (secret !== undefined) throw new ConfigError("HERALD_OPERATIONAL_WEBHOOK_SECRET: set HERALD_OPERATIONAL_WEBHOOK_URL too");
    return undefined;
  }
  const problem = secret === undefined ? undefined : secretProblem(secret);
  if (problem) throw new ConfigError(`HERALD_OPERATIONAL_WEBHOOK_SECRET: ${problem}`);
  return { url: httpUrl("HERALD_OPERATIONAL_WEBHOOK_URL", url), secret };
}

/** `off` (or `0`) or a duration of at least an hour: a bare number would be milliseconds, and delete nearly everything. */
function retention(value: string | undefined): number | null {
  if (value === undefined || value === "off" || value === "0") return null;
  const ms = parseDuration(value);
  if (ms === undefined || ms < 3_600_000 || /^\d+$/.test(value.trim())) {
    throw new ConfigError(`HERALD_RETENTION: expected off or a duration of at least 1h such as 30d or 72h, got ${JSON.stringify(value)}`);
  }
  return ms;
}

/** Both files or neither; each readable, PEM, and the key the certificate's own. */
function brokerClientCert(certPath: string | undefined, keyPath: string | undefined): HeraldConfig["brokerClientCert"] {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new ConfigError(`${certPath === undefined ? "HERALD_BROKER_TLS_KEY" : "HERALD_BROKER_TLS_CERT"}: set HERALD_BROKER_TLS_CERT and HERALD_BROKER_TLS_KEY together`);
  }
  const read = (name: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`${name}: cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const cert = read("HERALD_BROKER_TLS_CERT", certPath);
  const key = read("HERALD_BROKER_TLS_KEY", keyPath);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`HERALD_BROKER_TLS_CERT: ${JSON.stringify(certPath)} is not a PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(`HERALD_BROKER_TLS_KEY: ${JSON.stringify(keyPath)} is not a PEM private key (without a passphrase)`);
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new ConfigError("HERALD_BROKER_TLS_KEY: is not the key of the certificate in HERALD_BROKER_TLS_CERT");
  }
  return { cert, key };
}

/** What development mode lets through, so that `herald listen` on the same machine can receive. */
export const LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128"] as const;

function isCidr(text: string): boolean {
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

function deliveryThread(value: string | undefined): boolean {
  const v = (value ?? "off").trim().toLowerCase();
  if (v === "on" || v === "1" || v === "true") return true;
  if (v === "off" || v === "0" || v === "false") return false;
  throw new ConfigError(`HERALD_DELIVERY_THREAD: expected on or off, got ${JSON.stringify(value)}`);
}

function devMode(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  if (v === "1" || v === "true") return true;
  if (v === "0" || v === "false") return false;
  throw new ConfigError(`HERALD_DEV: expected 1, true, 0 or false, got ${JSON.stringify(value)}`);
}

/**
 * Resolves raw settings into a checked configuration; throws ConfigError with
 * one clear line. `overrides` (the library's `config` option) win over the
 * settings and pass the same checks: each is written as its variable and
 * parsed with the rest (see `ConfigOverrides`).
 */
export function resolveConfig(raw: RawSettings, overrides: ConfigOverrides = {}): HeraldConfig {
  const { settings, extras } = overridesAsSettings(overrides);
  const merged: RawSettings = { ...raw, ...settings };
  const get = (name: string): string | undefined => {
    const v = merged[name];
    return v === undefined || v === "" ? undefined : v;
  };
  const role = get("HERALD_ROLE") ?? "all";
  if (role !== "all" && role !== "api" && role !== "worker") {
    throw new ConfigError(`HERALD_ROLE: expected all, api or worker, got ${JSON.stringify(role)}`);
  }
  const dev = devMode(get("HERALD_DEV"));
  const listed = (get("HERALD_ALLOWED_NETWORKS") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const networks = dev ? [...new Set([...listed, ...LOOPBACK_NETWORKS])] : listed;
  for (const n of listed) {
    if (!isCidr(n)) throw new ConfigError(`HERALD_ALLOWED_NETWORKS: expected comma-separated CIDRs such as 127.0.0.0/8,::1/128, got ${JSON.stringify(n)}`);
  }
  const apiKey = get("HERALD_API_KEY");
  if (apiKey !== undefined && apiKey.length < 16) {
    throw new ConfigError("HERALD_API_KEY: expected at least 16 characters");
  }
  const encryptionKey = get("HERALD_ENCRYPTION_KEY");
  const schedule = get("HERALD_RETRY_SCHEDULE");
  const config: HeraldConfig = {
    store: parseStoreLocation(get("HERALD_DATABASE_URL") ?? "sqlite:./herald.db"),
    host: get("HERALD_HOST") ?? "127.0.0.1",
    port: integer("HERALD_PORT", get("HERALD_PORT") ?? "8080", 0, 65535),
    apiKey,
    retry: { schedule: schedule ? parseSchedule(schedule) : DEFAULT_SCHEDULE, jitter: extras.jitter ?? 0.1 },
    requestTimeoutMs: duration("HERALD_REQUEST_TIMEOUT", get("HERALD_REQUEST_TIMEOUT") ?? "5s", 100, 30_000),
    transformTimeoutMs: duration("HERALD_TRANSFORM_TIMEOUT", get("HERALD_TRANSFORM_TIMEOUT") ?? "100ms", 10, 10_000),
    allowedNetworks: networks,
    maxPayloadBytes: integer("HERALD_MAX_PAYLOAD_BYTES", get("HERALD_MAX_PAYLOAD_BYTES") ?? "262144", 1, 64 * 1024 * 1024),
    encryptionKey,
    role,
    dev,
    deliveryThread: deliveryThread(get("HERALD_DELIVERY_THREAD")),
    logLevel: get("HERALD_LOG_LEVEL") ?? "info",
    apiRateLimit: integer("HERALD_API_RATE_LIMIT", get("HERALD_API_RATE_LIMIT") ?? "100", 0, 1_000_000),
    publicUrl: get("HERALD_PUBLIC_URL") === undefined ? undefined : httpUrl("HERALD_PUBLIC_URL", get("HERALD_PUBLIC_URL")!).replace(/\/+$/, ""),
    operationalWebhook: operationalWebhook(get("HERALD_OPERATIONAL_WEBHOOK_URL"), get("HERALD_OPERATIONAL_WEBHOOK_SECRET")),
    retentionMs: retention(get("HERALD_RETENTION")),
    brokerClientCert: brokerClientCert(get("HERALD_BROKER_TLS_CERT"), get("HERALD_BROKER_TLS_KEY")),
    delivery: { ...DEFAULT_DELIVERY, leaseMs: duration("HERALD_LEASE", get("HERALD_LEASE") ?? "60s", 1000, 600_000) },
  };
  if (!["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(config.logLevel)) {
    throw new ConfigError(`HERALD_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got ${JSON.stringify(config.logLevel)}`);
  }
  return { ...config, delivery: { ...config.delivery, ...extras.delivery } };
}
