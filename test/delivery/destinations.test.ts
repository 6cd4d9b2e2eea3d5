import { afterEach, describe, expect, it } from "vitest";
import {
  AmqpDestination,
  type Destination,
  Destinations,
  defaultDestinations,
  HttpDestination,
  NatsDestination,
  type PreparedAttempt,
  RedisDestination,
  type SendResult,
} from "../../src/delivery/destinations/index.js";
import type { Herald } from "../../src/herald.js";
import { createApp, createEndpoint, eventually, openTestHerald } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/** A destination that answers 200 and remembers what it was given. */
function recording(): Destination & { sent: PreparedAttempt[]; closed: number } {
  const d = {
    sent: [] as PreparedAttempt[],
    closed: 0,
    send: async (attempt: PreparedAttempt): Promise<SendResult> => {
      d.sent.push(attempt);
      return { ok: true, statusCode: 200, headers: {}, body: "", errorKind: null, errorMessage: null, durationMs: 1 };
    },
    close: async () => {
      d.closed++;
    },
  };
  return d;
}

const attempt = (url: string): PreparedAttempt => ({ url: new URL(url), headers: { "webhook-id": "msg_1" }, body: "{}", timeoutMs: 1000 });

describe("destinations by URL scheme", () => {
  it("hands http: and https: attempts to the destination of their scheme, unchanged", async () => {
    const http = recording();
    const other = recording();
    const destinations = new Destinations({ "http:": http, "https:": http, "test:": other });
    const a = attempt("http://127.0.0.1:9/hook");
    const b = attempt("https://example.com/hook?x=1");
    expect((await destinations.send(a)).ok).toBe(true);
    expect((await destinations.send(b)).ok).toBe(true);
    expect(http.sent).toEqual([a, b]);
    expect(other.sent).toEqual([]);
    await destinations.close(true);
    expect([http.closed, other.closed]).toEqual([1, 1]); // once each, though http serves two schemes
  });

  it("answers an unknown scheme with a failed attempt of kind unsupported_destination, never a throw", async () => {
    const http = recording();
    const destinations = new Destinations({ "http:": http, "https:": http });
    const result = await destinations.send(attempt("kafka://127.0.0.1:9092/orders"));
    expect(result).toMatchObject({ ok: false, statusCode: null, headers: null, body: null, errorKind: "unsupported_destination" });
    expect(result.errorMessage).toContain('"kafka:"');
    expect(http.sent).toEqual([]);
  });

  it("delivers http: and https: through one HttpDestination by default, and the brokers (plain or TLS) through theirs", async () => {
    const destinations = defaultDestinations();
    try {
      expect(destinations.schemes).toEqual(["http:", "https:", "amqp:", "amqps:", "nats:", "tls:", "redis:", "rediss:"]);
      const byScheme = (destinations as unknown as { byScheme: Map<string, Destination> }).byScheme;
      expect(byScheme.get("https:")).toBeInstanceOf(HttpDestination);
      expect(byScheme.get("http:")).toBe(byScheme.get("https:"));
      expect(byScheme.get("amqp:")).toBeInstanceOf(AmqpDestination);
      expect(byScheme.get("nats:")).toBeInstanceOf(NatsDestination);
      expect(byScheme.get("redis:")).toBeInstanceOf(RedisDestination);
      for (const [plain, tls] of [["amqp:", "amqps:"], ["nats:", "tls:"], ["redis:", "rediss:"]]) expect(byScheme.get(tls!)).toBe(byScheme.get(plain!));
    } finally {
      await destinations.close();
    }
  });
});

/** The safety net end to end: runs on SQLite, and on PostgreSQL under HERALD_TEST_STORE=postgres. */
describe("an endpoint whose URL no destination delivers", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;

  afterEach(async () => {
    await close?.();
    await receiver?.close();
  });

  it("is refused by the API, and, written some other way, gets a failed attempt on the schedule while other endpoints are served", async () => {
    ({ herald, close } = await openTestHerald({ HERALD_RETRY_SCHEDULE: "0s,1m" }));
    await herald.start();
    receiver = await startReceiver();
    const app = await createApp(herald);
    const url = "kafka://127.0.0.1:9092/orders";
    await expect(herald.createEndpoint(app.id, { url })).rejects.toMatchObject({ code: "validation_failed" });

    // Straight into the store, past the API's checks.
    const broker = await createEndpoint(herald, app, url);
    const web = await createEndpoint(herald, app, receiver.url);
    await expect(herald.updateEndpoint(app.id, web.id, { url })).rejects.toMatchObject({ code: "validation_failed" });

    const { message } = await herald.publish({ appId: app.id, eventType: "a.b", payload: "{}", channels: null, eventId: null });
    const attempts = await eventually(async () => {
      const { data } = await herald.store.listMessageAttempts(message.id, { limit: 5 });
      return data.length === 2 ? data : null;
    });
    const failed = attempts.find((a) => a.endpointId === broker.id);
    expect(failed).toMatchObject({ success: false, statusCode: null, errorKind: "unsupported_destination", attemptNumber: 1, url });
    expect(failed!.errorMessage).toContain('"kafka:"');
    expect(attempts.find((a) => a.endpointId === web.id)).toMatchObject({ success: true, statusCode: 200 });
    expect(receiver.received).toHaveLength(1);

    const deliveries = await herald.store.listDeliveries(message.id);
    // Retried on the schedule like any failure, not a crash or an endless loop of expiring leases.
    expect(deliveries.find((d) => d.endpointId === broker.id)).toMatchObject({ status: "pending", attempts: 1, scheduleIndex: 1 });
    expect(herald.dispatcher?.running).toBe(true);
  });
});
