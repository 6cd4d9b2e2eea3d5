import type { ChannelModel, ConfirmChannel, Message, Options } from "amqplib";

/** How long an exchange checked to exist is trusted before it is checked again. */
const EXCHANGE_CHECK_MS = 30_000;

/** One publish waiting for its confirm. */
interface Pending {
  /** Set by the `basic.return` of this publish (unroutable with `mandatory`), which comes before its ack. */
  returned: string | null;
}

/** The outcome of one publish on a connection. */
export type PublishOutcome =
  | { ok: true }
  | { ok: false; reason: "no_exchange" | "returned" | "nacked" | "channel_closed" | "closed"; detail: string };

/**
 * One RabbitMQ connection's publishing: a single confirm channel shared by
 * every publish in flight (RabbitMQ confirms many with one ack), with:
 *
 * - returns matched to their publish: a return carries the exchange, the
 *   routing key and the headers, whose `webhook-signature` is unique to one
 *   attempt (it signs the message id, the timestamp and the endpoint's
 *   secret); two publishes alike in all of these would route alike too;
 * - exchanges checked before the first publish to them (a passive declare, on
 *   a channel of its own, remembered 30 s), because publishing to a missing
 *   exchange closes the channel, which would fail every other publish in
 *   flight on it. An exchange deleted within those 30 s still does that: the
 *   publishes in flight fail with the broker's reason and are retried.
 */
export class AmqpPublisher {
  private channel: Promise<SharedChannel> | null = null;
  private readonly exchanges = new Map<string, { until: number; check: Promise<string | null> }>();

  constructor(readonly model: ChannelModel) {}

  async publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<PublishOutcome> {
    const missing = await this.checkExchange(exchange);
    if (missing !== null) return { ok: false, reason: "no_exchange", detail: missing };
    const shared = await this.sharedChannel();
    return shared.publish(exchange, routingKey, content, options);
  }

  close(): Promise<void> {
    return this.model.close().catch(() => undefined);
  }

  destroy(): void {
    // amqplib has no abrupt close of its own: drop the socket under it.
    (this.model.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }

  /** null when the exchange exists (the default exchange `""` always does), else the broker's reason. */
  private checkExchange(exchange: string): Promise<string | null> {
    if (exchange === "") return Promise.resolve(null);
    const now = Date.now();
    const known = this.exchanges.get(exchange);
    if (known && known.until > now) return known.check;
    const check = (async () => {
      const probe = await this.model.createChannel();
      probe.on("error", () => undefined); // a 404 closes the probe, and only the probe
      try {
        await probe.checkExchange(exchange);
        probe.close().catch(() => undefined);
        return null;
      } catch (err) {
        this.exchanges.delete(exchange); // a missing exchange is asked about again next time
        return (err as Error).message;
      }
    })();
    this.exchanges.set(exchange, { until: now + EXCHANGE_CHECK_MS, check });
    check.catch(() => this.exchanges.delete(exchange));
    return check;
  }

  private sharedChannel(): Promise<SharedChannel> {
    if (!this.channel) {
      const opening = this.model.createConfirmChannel().then((channel) => {
        const shared = new SharedChannel(channel);
        channel.on("close", () => {
          if (this.channel === opening) this.channel = null;
          if (shared.error !== null) this.exchanges.clear(); // what it was refused may be a deleted exchange
        });
        return shared;
      });
      opening.catch(() => {
        if (this.channel === opening) this.channel = null;
      });
      this.channel = opening;
    }
    return this.channel;
  }
}

class SharedChannel {
  /** Publishes in flight by their return key (see `returnKey`), oldest first. */
  private readonly pending = new Map<string, Pending[]>();
  /** Why the broker closed the channel (e.g. `404 NOT_FOUND - no exchange`, `403 ACCESS_REFUSED`). */
  error: string | null = null;
  private closed = false;

  constructor(private readonly channel: ConfirmChannel) {
    channel.on("return", (msg: Message) => {
      const fields = msg.fields as { exchange: string; routingKey: string; replyCode?: number; replyText?: string };
      const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
      const waiting = this.pending.get(returnKey(fields.exchange, fields.routingKey, headers));
      const publish = waiting?.find((p) => p.returned === null);
      if (publish) publish.returned = `${fields.replyCode ?? 312} ${fields.replyText ?? "NO_ROUTE"}`;
    });
    channel.on("error", (err: Error) => {
      this.error = err.message;
    });
    channel.on("close", () => {
      this.closed = true;
    });
  }

  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<PublishOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: "closed", detail: "the channel was closed" });
    const key = returnKey(exchange, routingKey, options.headers ?? {});
    const mine: Pending = { returned: null };
    const list = this.pending.get(key);
    if (list) list.push(mine);
    else this.pending.set(key, [mine]);
    const forget = () => {
      const now = this.pending.get(key);
      if (!now) return;
      const i = now.indexOf(mine);
      if (i >= 0) now.splice(i, 1);
      if (now.length === 0) this.pending.delete(key);
    };
    return new Promise<PublishOutcome>((resolve) => {
      try {
        this.channel.publish(exchange, routingKey, content, { ...options, mandatory: true }, (err: unknown) => {
          forget();
          if (this.error !== null) resolve({ ok: false, reason: "channel_closed", detail: this.error });
          else if (err) resolve({ ok: false, reason: this.closed ? "closed" : "nacked", detail: (err as Error).message });
          else if (mine.returned !== null) resolve({ ok: false, reason: "returned", detail: mine.returned });
          else resolve({ ok: true });
        });
      } catch (err) {
        forget();
        resolve({ ok: false, reason: "closed", detail: (err as Error).message });
      }
    });
  }
}

/** What identifies one publish in its return: exchange, routing key and the attempt's signature. */
function returnKey(exchange: string, routingKey: string, headers: Record<string, unknown>): string {
  const signature = headers["webhook-signature"];
  return `${exchange}\n${routingKey}\n${typeof signature === "string" ? signature : String(signature ?? "")}`;
}
