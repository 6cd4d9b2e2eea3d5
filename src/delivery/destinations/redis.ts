import type { Redis } from "ioredis";
import type { RedisTarget } from "../../core/broker-url.js";
import { type BrokerAnswer, BrokerDestination, BrokerFailure, messageOf } from "./broker.js";
import type { PreparedAttempt } from "./destination.js";

class RedisLink {
  constructor(readonly client: Redis) {}

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }

  destroy(): void {
    this.client.disconnect();
  }
}

/**
 * `redis:` endpoints (Redis Streams): each attempt is one `XADD <stream> *`.
 * Success is the entry id Redis answers (kept in the attempt log). A Redis
 * error (the key holds another type, out of memory, no permission) is a
 * failed attempt of kind `broker_rejected` with Redis's own words.
 *
 * The entry's fields, in this order: `body` (the body bytes), then one field
 * per header of contract §4 (`content-type`, `webhook-id`,
 * `webhook-timestamp`, `webhook-signature`, `x-webhook-event`, …), named in
 * lowercase as on the HTTP wire.
 *
 * The connection does not reconnect or queue commands while down: one that
 * drops is opened again, checked again by the SSRF guard, by the next attempt.
 */
export class RedisDestination extends BrokerDestination<RedisTarget, RedisLink> {
  protected poolKey(t: RedisTarget): string {
    return JSON.stringify(["redis", t.tls, t.host, t.port, t.username, t.password, t.db]);
  }

  protected async open(t: RedisTarget, address: string, timeoutMs: number, forget: () => void): Promise<RedisLink> {
    // Loaded on first use: a Herald with no redis: endpoint never pays for the client.
    const { Redis } = await import("ioredis");
    const tls = this.tlsOptions(t);
    const client = new Redis({
      host: address,
      ...(tls ? { tls } : {}),
      port: t.port,
      db: t.db,
      ...(t.username ? { username: t.username } : {}),
      ...(t.password ? { password: t.password } : {}),
      connectionName: "herald",
      lazyConnect: true,
      connectTimeout: timeoutMs,
      // A backstop (the attempt's deadline ends it first): a command Redis never answers is not held forever.
      commandTimeout: timeoutMs,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    });
    // Each command reports its own failure; the last socket error says why connecting failed.
    let socketError: Error | undefined;
    client.on("error", (err: Error) => {
      socketError = err;
    });
    client.on("end", forget);
    // ioredis bounds the TCP connect only; a server that accepts and never answers would hold it forever.
    const giveUp = setTimeout(() => client.disconnect(), timeoutMs);
    try {
      await client.connect();
    } catch (err) {
      client.disconnect();
      const why = socketError ?? err;
      const message = messageOf(why);
      if (/^(WRONGPASS|NOAUTH|NOPERM)/.test(message)) throw new BrokerFailure("auth", `Redis refused the login: ${message}`);
      throw why;
    } finally {
      clearTimeout(giveUp);
    }
    return new RedisLink(client);
  }

  protected async publish(link: RedisLink, t: RedisTarget, req: PreparedAttempt): Promise<BrokerAnswer> {
    const fields: string[] = ["body", req.body];
    for (const [name, value] of Object.entries(req.headers)) fields.push(name.toLowerCase(), value);
    try {
      const id = await link.client.xadd(t.stream, "*", ...fields);
      return { ok: true, answer: id ?? "" };
    } catch (err) {
      // A reply from Redis is a refusal; anything else is the connection.
      if ((err as Error).name !== "ReplyError") throw err;
      return { ok: false, kind: "broker_rejected", message: `Redis refused XADD to "${t.stream}" (db ${t.db}): ${messageOf(err)}` };
    }
  }
}
