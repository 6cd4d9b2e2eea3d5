import { SsrfGuard } from "../../security/guard.js";
import { AmqpDestination } from "./amqp.js";
import type { BrokerDestinationOptions } from "./broker.js";
import { type Destination, failedResult, type PreparedAttempt, type SendResult } from "./destination.js";
import { HttpDestination, type HttpDestinationOptions } from "./http.js";
import { NatsDestination } from "./nats.js";
import { RedisDestination } from "./redis.js";

export type { Destination, PreparedAttempt, SendResult } from "./destination.js";
export { failedResult, RESPONSE_BODY_LIMIT } from "./destination.js";
export { AmqpDestination } from "./amqp.js";
export type { BrokerDestinationOptions } from "./broker.js";
export { HttpDestination, type HttpDestinationOptions } from "./http.js";
export { NatsDestination } from "./nats.js";
export { RedisDestination } from "./redis.js";

/**
 * The destinations of one dispatcher, by URL scheme (`"https:"`, with the
 * colon, as `URL.protocol` spells it). It is itself a `Destination`: the
 * dispatcher hands every attempt here and never looks at the scheme.
 *
 * A scheme nobody delivers is a failed attempt (`unsupported_destination`),
 * retried and logged like any other, never a throw. The API refuses such URLs
 * when an endpoint is created or changed (`urlProblem` in
 * src/service/endpoint-input.ts), so this is only a safety net for a row
 * written some other way.
 *
 * @example
 * const http = new HttpDestination({ guard });
 * const destinations = new Destinations({ "http:": http, "https:": http });
 * await destinations.send({ url: new URL("https://example.com/hook"), headers, body, timeoutMs: 30_000 });
 */
export class Destinations implements Destination {
  private readonly byScheme: ReadonlyMap<string, Destination>;

  constructor(byScheme: Readonly<Record<string, Destination>>) {
    this.byScheme = new Map(Object.entries(byScheme));
  }

  /** The schemes delivered here, e.g. `["http:", "https:"]`. */
  get schemes(): string[] {
    return [...this.byScheme.keys()];
  }

  send(attempt: PreparedAttempt): Promise<SendResult> {
    const destination = this.byScheme.get(attempt.url.protocol);
    if (!destination) {
      const message = `no destination delivers "${attempt.url.protocol}" URLs (this Herald delivers ${this.schemes.join(", ")})`;
      return Promise.resolve(failedResult("unsupported_destination", message, 0));
    }
    return destination.send(attempt);
  }

  /** Closes each destination once (one may serve several schemes). */
  async close(abort = false): Promise<void> {
    await Promise.all([...new Set(this.byScheme.values())].map((d) => d.close(abort)));
  }
}

/**
 * Herald's destinations: HTTP and HTTPS through one `HttpDestination`, and
 * the brokers of contract §8 (`amqp:` RabbitMQ, `nats:` NATS JetStream,
 * `redis:` Redis Streams, each also over TLS), all behind the same SSRF guard. A broker
 * destination connects only when an endpoint of its scheme is first attempted.
 */
export function defaultDestinations(
  options: HttpDestinationOptions & Pick<BrokerDestinationOptions, "idleMs"> & { brokerClientCert?: { cert: Buffer; key: Buffer } } = {},
): Destinations {
  const { idleMs, brokerClientCert, ...httpOptions } = options;
  // One guard (and one DNS answer cache) for every scheme.
  const guard = options.guard ?? new SsrfGuard();
  const http = new HttpDestination({ ...httpOptions, guard });
  const tls = { ...options.tls, ...brokerClientCert };
  const brokers: BrokerDestinationOptions = { guard, ...(idleMs !== undefined ? { idleMs } : {}), ...(Object.keys(tls).length > 0 ? { tls } : {}) };
  const amqp = new AmqpDestination(brokers);
  const nats = new NatsDestination(brokers);
  const redis = new RedisDestination(brokers);
  // Each broker over TLS too: `amqps:`, `tls:` (NATS's spelling) and `rediss:`.
  return new Destinations({ "http:": http, "https:": http, "amqp:": amqp, "amqps:": amqp, "nats:": nats, "tls:": nats, "redis:": redis, "rediss:": redis });
}
