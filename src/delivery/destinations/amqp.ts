import type { AmqpTarget } from "../../core/broker-url.js";
import { AmqpPublisher } from "./amqp-channel.js";
import { type BrokerAnswer, BrokerDestination, BrokerFailure, messageOf } from "./broker.js";
import type { PreparedAttempt } from "./destination.js";

/**
 * `amqp:` endpoints (RabbitMQ): each attempt is one `basic.publish` to the
 * URL's exchange and routing key, `mandatory`, on the connection's confirm
 * channel (`AmqpPublisher`). Success is the broker's publisher confirm
 * (`basic.ack`): the message is in every queue the exchange routed it to (on
 * disk, for durable queues). No such exchange, a return (no queue bound for
 * that routing key), a `basic.nack` or a channel error (access refused) is a
 * failed attempt of kind `broker_rejected`, with the broker's own words.
 *
 * The message: the body bytes; the headers of contract §4 as AMQP headers;
 * properties `contentType` (`application/json`), `messageId` (the
 * `webhook-id`), `timestamp` (the `webhook-timestamp`), `type` (the event
 * type), `appId` (`herald`), persistent delivery mode.
 */
export class AmqpDestination extends BrokerDestination<AmqpTarget, AmqpPublisher> {
  protected poolKey(t: AmqpTarget): string {
    return JSON.stringify(["amqp", t.tls, t.host, t.port, t.username, t.password, t.vhost]);
  }

  protected async open(t: AmqpTarget, address: string, timeoutMs: number, forget: () => void): Promise<AmqpPublisher> {
    const tls = this.tlsOptions(t);
    const options = {
      protocol: tls ? "amqps" : "amqp",
      hostname: address,
      port: t.port,
      // RabbitMQ's own default user when the URL names none, as amqplib does for URL strings.
      username: t.username || "guest",
      password: t.password || (t.username ? "" : "guest"),
      vhost: t.vhost,
      heartbeat: 30,
    };
    // Loaded on first use: a Herald with no amqp: endpoint never pays for the client.
    const { default: amqp } = await import("amqplib");
    const socket = { ...tls, timeout: timeoutMs, clientProperties: { connection_name: "herald" } };
    const model = await amqp.connect(options, socket).catch((err: Error) => {
      if (/ACCESS.REFUSED|NOT.ALLOWED/.test(err.message)) throw new BrokerFailure("auth", `RabbitMQ refused the login or the vhost "${t.vhost}": ${messageOf(err)}`);
      throw err;
    });
    model.on("error", () => forget());
    model.on("close", () => forget());
    return new AmqpPublisher(model);
  }

  protected async publish(publisher: AmqpPublisher, t: AmqpTarget, req: PreparedAttempt): Promise<BrokerAnswer> {
    const headers = req.headers;
    const timestamp = Number(headers["webhook-timestamp"]);
    const outcome = await publisher.publish(t.exchange, t.routingKey, Buffer.from(req.body), {
      persistent: true,
      contentType: headers["content-type"] ?? "application/json",
      ...(headers["webhook-id"] ? { messageId: headers["webhook-id"] } : {}),
      ...(Number.isFinite(timestamp) ? { timestamp } : {}),
      ...(headers["x-webhook-event"] ? { type: headers["x-webhook-event"] } : {}),
      appId: "herald",
      headers,
    });
    const where = `exchange "${t.exchange}" (routing key "${t.routingKey}", vhost "${t.vhost}")`;
    if (outcome.ok) return { ok: true, answer: `confirmed by RabbitMQ: ${where}` };
    switch (outcome.reason) {
      case "no_exchange":
        return { ok: false, kind: "broker_rejected", message: `RabbitMQ has no ${where}: ${outcome.detail}` };
      case "returned":
        return { ok: false, kind: "broker_rejected", message: `RabbitMQ returned the message as unroutable: no queue is bound to ${where} (${outcome.detail})` };
      case "nacked":
        return { ok: false, kind: "broker_rejected", message: `RabbitMQ refused (nacked) the publish to ${where}: ${outcome.detail}` };
      case "channel_closed":
        return { ok: false, kind: "broker_rejected", message: `RabbitMQ closed the channel of the publish to ${where}: ${outcome.detail}` };
      default:
        return { ok: false, kind: "connection_reset", message: `the connection to RabbitMQ closed before it confirmed the publish to ${where}: ${outcome.detail}` };
    }
  }
}
