import { formatDuration } from "../core/duration.js";
import { ConfigError } from "../core/errors.js";
import type { DeliveryTuning, HeraldConfig, RawSettings } from "./config.js";

/**
 * What `Herald.open({ config })` and `resolveConfig(settings, overrides)` take:
 * any field of the configuration; `delivery` field by field. Checked exactly as
 * the variables are: every field that a variable sets is written back as that
 * variable's text and parsed by the same rules, so a bad override fails with
 * the very line the variable would (`HERALD_REQUEST_TIMEOUT: expected a
 * duration …`). A field given as `undefined` counts as not given.
 */
export type ConfigOverrides = Partial<Omit<HeraldConfig, "delivery">> & { delivery?: Partial<DeliveryTuning> };

/** What the variables cannot say: checked here, with the same kind of line. */
export interface OverrideExtras {
  jitter: number | undefined;
  delivery: Partial<DeliveryTuning>;
}

const got = (value: unknown): string => {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
};

/** A number as a duration's text (`90000` → `90s`); anything else as is, for the variable's parser to refuse. */
const durationText = (v: unknown): string => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? formatDuration(v) : `${String(v)}ms`);

/**
 * Each override field → the variable that sets it and how to write the value
 * as that variable's text. A value of the wrong type is written so that the
 * variable's own rule refuses it (and names the variable).
 */
const AS_SETTING: Record<string, (value: unknown) => RawSettings> = {
  store: (v) => {
    const s = v as { kind?: unknown; path?: unknown; url?: unknown };
    if (s?.kind === "sqlite" && typeof s.path === "string") return { HERALD_DATABASE_URL: `sqlite:${s.path}` };
    if (s?.kind === "postgres" && typeof s.url === "string" && /^postgres(ql)?:\/\//.test(s.url)) return { HERALD_DATABASE_URL: s.url };
    throw new ConfigError(`HERALD_DATABASE_URL: expected sqlite:PATH, a file path or postgres://…, got ${got(v)}`);
  },
  host: (v) => {
    if (typeof v !== "string" || v.trim() === "") throw new ConfigError(`HERALD_HOST: expected a host name or address, got ${got(v)}`);
    return { HERALD_HOST: v };
  },
  port: (v) => ({ HERALD_PORT: text(v) }),
  apiKey: (v) => ({ HERALD_API_KEY: text(v) }),
  retry: (v) => {
    const schedule = (v as { schedule?: unknown })?.schedule;
    if (schedule === undefined) return {};
    if (!Array.isArray(schedule) || schedule.length === 0) {
      throw new ConfigError(`HERALD_RETRY_SCHEDULE: expected comma-separated durations such as 0s,1m,5m,30m,1h, got ${got(schedule)}`);
    }
    return { HERALD_RETRY_SCHEDULE: schedule.map(durationText).join(",") };
  },
  requestTimeoutMs: (v) => ({ HERALD_REQUEST_TIMEOUT: durationText(v) }),
  transformTimeoutMs: (v) => ({ HERALD_TRANSFORM_TIMEOUT: durationText(v) }),
  allowedNetworks: (v) => {
    if (!Array.isArray(v) || v.some((n) => typeof n !== "string" || n.includes(","))) {
      throw new ConfigError(`HERALD_ALLOWED_NETWORKS: expected comma-separated CIDRs such as 127.0.0.0/8,::1/128, got ${got(v)}`);
    }
    // Empty entries would be dropped as in the variable; here they are a mistake.
    const blank = v.find((n: string) => n.trim() === "");
    if (blank !== undefined) throw new ConfigError(`HERALD_ALLOWED_NETWORKS: expected comma-separated CIDRs such as 127.0.0.0/8,::1/128, got ${got(blank)}`);
    return { HERALD_ALLOWED_NETWORKS: v.join(",") };
  },
  maxPayloadBytes: (v) => ({ HERALD_MAX_PAYLOAD_BYTES: text(v) }),
  encryptionKey: (v) => ({ HERALD_ENCRYPTION_KEY: text(v) }),
  role: (v) => ({ HERALD_ROLE: text(v) }),
  dev: (v) => ({ HERALD_DEV: v === true ? "1" : v === false ? "0" : text(v) }),
  logLevel: (v) => ({ HERALD_LOG_LEVEL: text(v) }),
  apiRateLimit: (v) => ({ HERALD_API_RATE_LIMIT: text(v) }),
  publicUrl: (v) => ({ HERALD_PUBLIC_URL: text(v) }),
  operationalWebhook: (v) => {
    const w = v as { url?: unknown; secret?: unknown };
    if (typeof w?.url !== "string") throw new ConfigError(`HERALD_OPERATIONAL_WEBHOOK_URL: expected an absolute http:// or https:// URL, got ${got(w?.url)}`);
    return { HERALD_OPERATIONAL_WEBHOOK_URL: w.url, HERALD_OPERATIONAL_WEBHOOK_SECRET: w.secret === undefined ? undefined : text(w.secret) };
  },
  retentionMs: (v) => ({ HERALD_RETENTION: v === null ? "off" : durationText(v) }),
};

/** Strings go as they are; everything else as its JSON, which the variable's rule then refuses. */
const text = (v: unknown): string => (typeof v === "string" ? v : typeof v === "number" ? String(v) : got(v));

/** Delivery tuning has no variables (but the lease): each field a whole number within bounds. */
const DELIVERY_BOUNDS: Record<keyof DeliveryTuning, [min: number, max: number] | "HERALD_LEASE"> = {
  concurrency: [1, 100_000],
  perEndpointConcurrency: [1, 100_000],
  claimBatch: [1, 10_000],
  leaseMs: "HERALD_LEASE",
  pollIntervalMs: [1, 3_600_000],
  shutdownTimeoutMs: [0, 3_600_000],
};

/**
 * Splits overrides into variables (to be parsed with the environment's, and to
 * win over them) and the few fields no variable sets, checked here.
 */
export function overridesAsSettings(overrides: ConfigOverrides): { settings: RawSettings; extras: OverrideExtras } {
  const settings: RawSettings = {};
  const extras: OverrideExtras = { jitter: undefined, delivery: {} };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue;
    if (key === "delivery") {
      Object.assign(settings, deliverySettings(value, extras));
      continue;
    }
    const asSetting = AS_SETTING[key];
    if (!asSetting) throw new ConfigError(`config.${key}: not an option; expected one of ${[...Object.keys(AS_SETTING), "delivery"].join(", ")}`);
    Object.assign(settings, asSetting(value));
    if (key === "retry") {
      const jitter = (value as { jitter?: unknown }).jitter;
      if (jitter !== undefined && (typeof jitter !== "number" || !(jitter >= 0 && jitter <= 1))) {
        throw new ConfigError(`config.retry.jitter: expected a number from 0 to 1, got ${got(jitter)}`);
      }
      extras.jitter = jitter as number | undefined;
    }
  }
  return { settings, extras };
}

function deliverySettings(value: unknown, extras: OverrideExtras): RawSettings {
  if (typeof value !== "object" || value === null) throw new ConfigError(`config.delivery: expected an object, got ${got(value)}`);
  const settings: RawSettings = {};
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const bounds = DELIVERY_BOUNDS[key as keyof DeliveryTuning];
    if (bounds === undefined) throw new ConfigError(`config.delivery.${key}: not an option; expected one of ${Object.keys(DELIVERY_BOUNDS).join(", ")}`);
    if (bounds === "HERALD_LEASE") {
      settings.HERALD_LEASE = durationText(v);
      continue;
    }
    const [min, max] = bounds;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      throw new ConfigError(`config.delivery.${key}: expected an integer from ${min} to ${max}, got ${got(v)}`);
    }
    extras.delivery[key as keyof DeliveryTuning] = v;
  }
  return settings;
}
