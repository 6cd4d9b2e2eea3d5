/**
 * Broker destinations' URLs (contract §8): what each scheme needs, read once
 * into a typed target. No I/O: the API checks URLs with it (`urlProblem`), and
 * the destinations read their targets with it.
 *
 * - `amqp://[user:pass@]host[:5672]/[vhost]?exchange=E[&routingKey=K]` (RabbitMQ;
 *   an empty path is the default vhost `/`; `exchange=` empty is the default exchange)
 * - `nats://[user:pass@ | token@]host[:4222]/subject` (NATS JetStream)
 * - `redis://[user:pass@]host[:6379][/db]?stream=S` (Redis Streams)
 *
 * Over TLS: `amqps://` (port 5671 by default), `tls://` (NATS's own spelling
 * of a connection that must be TLS; port 4222) and `rediss://` (port 6379),
 * otherwise the same. The certificate is verified against the URL's host name.
 */

export interface BrokerCredentials {
  /** Decoded; empty when the URL names none. */
  username: string;
  password: string;
}

interface BrokerBase extends BrokerCredentials {
  host: string;
  port: number;
  /** Connect over TLS (`amqps:`, `tls:`, `rediss:`), verifying the certificate against `host`. */
  tls: boolean;
}

export interface AmqpTarget extends BrokerBase {
  scheme: "amqp";
  vhost: string;
  exchange: string;
  routingKey: string;
}

export interface NatsTarget extends BrokerBase {
  scheme: "nats";
  subject: string;
}

export interface RedisTarget extends BrokerBase {
  scheme: "redis";
  db: number;
  stream: string;
}

export type BrokerTarget = AmqpTarget | NatsTarget | RedisTarget;

/** Each broker scheme, as `URL.protocol` spells it: the broker it reaches and whether over TLS. */
const SCHEMES: Record<string, { broker: BrokerTarget["scheme"]; tls: boolean; port: number }> = {
  "amqp:": { broker: "amqp", tls: false, port: 5672 },
  "amqps:": { broker: "amqp", tls: true, port: 5671 },
  "nats:": { broker: "nats", tls: false, port: 4222 },
  "tls:": { broker: "nats", tls: true, port: 4222 },
  "redis:": { broker: "redis", tls: false, port: 6379 },
  "rediss:": { broker: "redis", tls: true, port: 6379 },
};

/** The broker schemes, as `URL.protocol` spells them. */
export const BROKER_SCHEMES: readonly string[] = Object.keys(SCHEMES);

const MUST_USE = `must use ${BROKER_SCHEMES.map((s) => s.slice(0, -1)).join(", ")}`;

/** A subject of tokens separated by dots, no wildcards or spaces (a publish names one subject). */
const NATS_SUBJECT = /^[^.*>\s]+(\.[^.*>\s]+)*$/;

/** Reads a broker URL; a string says what is wrong with it. */
export function parseBrokerUrl(url: URL): BrokerTarget | string {
  const scheme = SCHEMES[url.protocol];
  if (scheme === undefined) return MUST_USE;
  if (!url.hostname) return "must name the broker's host";
  const port = url.port === "" ? scheme.port : Number(url.port);
  const base: BrokerBase = { host: url.hostname, port, username: decodePart(url.username), password: decodePart(url.password), tls: scheme.tls };
  const params = url.searchParams;
  const path = url.pathname.replace(/^\//, "");
  switch (scheme.broker) {
    case "amqp": {
      const exchange = params.get("exchange");
      if (exchange === null) return "an amqp URL must name its exchange: ?exchange=NAME (empty for the default exchange)";
      if (path.includes("/")) return "an amqp URL's path is the vhost: one segment (write / in a vhost name as %2F)";
      const vhost = decodePart(path) || "/";
      return { scheme: "amqp", ...base, vhost, exchange, routingKey: params.get("routingKey") ?? "" };
    }
    case "nats": {
      const subject = decodePart(path);
      if (!subject) return "a nats URL must name its subject as its path: nats://host:4222/orders.created";
      if (!NATS_SUBJECT.test(subject)) return `"${subject}" is not a subject a message can be published to (dot-separated tokens, no wildcards or spaces)`;
      return { scheme: "nats", ...base, subject };
    }
    case "redis": {
      const stream = params.get("stream");
      if (!stream) return "a redis URL must name its stream: ?stream=KEY";
      if (path !== "" && !/^\d{1,5}$/.test(path)) return "a redis URL's path is the database number (/0, /1, …) or nothing";
      return { scheme: "redis", ...base, db: path === "" ? 0 : Number(path), stream };
    }
  }
}

/** Why this broker URL cannot be delivered to, or undefined. */
export function brokerUrlProblem(url: URL): string | undefined {
  const target = parseBrokerUrl(url);
  return typeof target === "string" ? target : undefined;
}

/** What stands for a password or token in a URL Herald shows. */
const MASK = "***";

/**
 * Where a URL keeps its credential: its password, or a lone user part (a NATS
 * token). Null for a URL without one (every http one) or one that does not parse.
 */
function credential(url: string): { parsed: URL; part: "password" | "username" } | null {
  if (!url.includes("@")) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.password) return { parsed, part: "password" };
  return parsed.username ? { parsed, part: "username" } : null;
}

/** A URL's credential, decoded; null when it has none. */
export function credentialOf(url: string): string | null {
  const c = credential(url);
  return c && decodePart(c.parsed[c.part]);
}

/** The URL with `f` applied to its credential (decoded, written back encoded); unchanged without one. */
export function mapCredential(url: string, f: (value: string) => string): string {
  const c = credential(url);
  if (!c) return url;
  c.parsed[c.part] = encodeURIComponent(f(decodePart(c.parsed[c.part])));
  return c.parsed.toString();
}

/**
 * The URL with its password (or NATS token) replaced by `***`: what the
 * API, the attempt log and error messages show. URLs that do not parse, or
 * carry no credentials, come back unchanged.
 */
export const withoutCredentials = (url: string): string => mapCredential(url, () => MASK);

/**
 * Whether the URL's password (or lone token) is `***`: a URL as Herald shows
 * it (`withoutCredentials`), sent back rather than the real credentials.
 */
export const hasMaskedCredentials = (url: string): boolean => credentialOf(url) === MASK;

/** A URL's percent-encoded part, decoded; as it is when its encoding is broken. */
export function decodePart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
