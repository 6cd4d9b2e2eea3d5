import amqp, { type ChannelModel, type ConfirmChannel } from "amqplib";
import type { AmqpTarget } from "../../core/broker-url.js";
import type { Deadline } from "../deadline.js";
import { type BrokerAnswer, BrokerDestination, BrokerFailure, messageOf } from "./broker.js";
import type { PreparedAttempt } from "./destination.js";

/** Idle confirm channels kept per connection, beyond which a finished one is closed. */
const IDLE_CHANNELS = 32;

/** A confirm channel, used by one publish at a time, so a return or a channel error belongs to exactly that publish. */
interface Lane {
  channel: ConfirmChannel;
  /** The `basic.return` of the publish in flight (unroutable with `mandatory`), which comes before its ack. */
  returned: string | null;
  /** Why the broker closed the channel (e.g. `404 NOT_FOUND - no exchange`). */
  error: string | null;
  closed: boolean;
}

class AmqpConnection {
  private readonly idle: Lane[] = [];

  constructor(readonly model: ChannelModel) {}

  async lane(): Promise<Lane> {
    const ready = this.idle.pop();
    if (ready) return ready;
    const channel = await this.model.createConfirmChannel();
    const lane: Lane = { channel, returned: null, error: null, closed: false };
    channel.on("return", (msg: amqp.Message) => {
      const fields = msg.fields as { replyCode?: number; replyText?: string };
      lane.returned = `${fields.replyCode ?? 312} ${fields.replyText ?? "NO_ROUTE"}`;
    });
    channel.on("error", (err: Error) => {
      lane.error = err.message;
    });
    channel.on("close", () => {
      lane.closed = true;
    });
    return lane;
  }

  /** Back to the idle list when it can serve again; closed otherwise. */
  release(lane: Lane, reusable: boolean): void {
    lane.returned = null;
    if (lane.closed) return;
    if (reusable && this.idle.length < IDLE_CHANNELS) this.idle.push(lane);
    else lane.channel.close().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.model.close().catch(() => undefined);
  }
}

/**
 * `amqp:` endpoints (RabbitMQ): each attempt is one `basic.publish` to the
 * URL's exchange and routing key, `mandatory`, on a confirm channel.
 * Success is the broker's publisher confirm (`basic.ack`): the message is in
 * every queue the exchange routed it to (on disk, for durable queues).
 * A `basic.nack`, a return (no queue bound for that routing key) or a channel
 * error (no such exchange, access refused) is a failed attempt of kind
 * `broker_rejected`, with the broker's own words.
 *
 * The message: the body bytes; the headers of contract §4 as AMQP headers;
 * properties `contentType` (`application/json`), `messageId` (the
 * `webhook-id`), `timestamp` (the `webhook-timestamp`), `type` (the event
 * type), `appId` (`herald`), persistent delivery mode.
 */
export class AmqpDestination extends BrokerDestination<AmqpTarget, AmqpConnection> {
  protected poolKey(t: AmqpTarget): string {
    return JSON.stringify(["amqp", t.host, t.port, t.username, t.password, t.vhost]);
  }

  protected async open(t: AmqpTarget, address: string, timeoutMs: number, forget: () => void): Promise<AmqpConnection> {
    const model = await amqp
      .connect(
      {
        protocol: "amqp",
        hostname: address,
        port: t.port,
        // RabbitMQ's own default user when the URL names none, as amqplib does for URL strings.
        username: t.username || "guest",
        password: t.password || (t.username ? "" : "guest"),
        vhost: t.vhost,
        heartbeat: 30,
      },
      { timeout: timeoutMs, clientProperties: { connection_name: "herald" } },
      )
      .catch((err: Error) => {
        if (/ACCESS.REFUSED|NOT.ALLOWED/.test(err.message)) throw new BrokerFailure("auth", `RabbitMQ refused the login or the vhost "${t.vhost}": ${messageOf(err)}`);
        throw err;
      });
    model.on("error", () => forget());
    model.on("close", () => forget());
    return new AmqpConnection(model);
  }

  protected async publish(connection: AmqpConnection, t: AmqpTarget, req: PreparedAttempt, deadline: Deadline): Promise<BrokerAnswer> {
    const lane = await connection.lane();
    const headers = req.headers;
    const timestamp = Number(headers["webhook-timestamp"]);
    const confirmed = await new Promise<Error | null>((resolve) => {
      try {
        lane.channel.publish(
          t.exchange,
          t.routingKey,
          Buffer.from(req.body),
          {
            mandatory: true,
            persistent: true,
            contentType: headers["content-type"] ?? "application/json",
            ...(headers["webhook-id"] ? { messageId: headers["webhook-id"] } : {}),
            ...(Number.isFinite(timestamp) ? { timestamp } : {}),
            ...(headers["x-webhook-event"] ? { type: headers["x-webhook-event"] } : {}),
            appId: "herald",
            headers,
          },
          (err: unknown) => resolve(err ? (err as Error) : null),
        );
      } catch (err) {
        resolve(err as Error); // the channel was closed already
      }
    });
    const where = `exchange "${t.exchange}" (routing key "${t.routingKey}", vhost "${t.vhost}")`;
    const answer: BrokerAnswer =
      lane.error !== null
        ? { ok: false, kind: "broker_rejected", message: `RabbitMQ refused the publish to ${where}: ${lane.error}` }
        : confirmed
          ? { ok: false, kind: lane.closed ? "connection_reset" : "broker_rejected", message: `RabbitMQ did not confirm the publish to ${where}: ${messageOf(confirmed)}` }
          : lane.returned !== null
            ? { ok: false, kind: "broker_rejected", message: `RabbitMQ returned the message as unroutable: no queue is bound to ${where} (${lane.returned})` }
            : { ok: true, answer: `confirmed by RabbitMQ: ${where}` };
    // A channel that outlived its attempt's deadline may still get a late answer: not reused.
    connection.release(lane, !deadline.aborted);
    return answer;
  }
}
