import { randomBytes } from "node:crypto";
import { connect as netConnect } from "node:net";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { expect } from "vitest";
import type { Herald } from "../../src/herald.js";
import type { EndpointId } from "../../src/core/ids.js";
import type { Application, Attempt } from "../../src/store/model.js";
import { createApp, eventually, openTestHerald } from "./herald.js";
import { freePort } from "./process.js";

/**
 * The machine's brokers for the broker destinations' tests: RabbitMQ
 * (127.0.0.1:5672, guest/guest), NATS with JetStream (127.0.0.1:4222), Redis
 * (127.0.0.1:6379). Where one is not reachable its tests skip with a loud
 * message, unless `HERALD_REQUIRE_BROKERS=1` (CI, `.ci/run`), which turns that
 * into a failure.
 */
export const REQUIRE_BROKERS = process.env.HERALD_REQUIRE_BROKERS === "1";

export const BROKERS = {
  RabbitMQ: { port: 5672 },
  NATS: { port: 4222 },
  Redis: { port: 6379 },
} as const;

/** Whether the broker accepts TCP connections on 127.0.0.1 (asked once per test file). */
export async function brokerAvailable(name: keyof typeof BROKERS): Promise<boolean> {
  const { port } = BROKERS[name];
  const problem = await new Promise<string | null>((resolve) => {
    const socket = netConnect({ host: "127.0.0.1", port, timeout: 3000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(null);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve("no answer within 3 s");
    });
    socket.once("error", (err) => resolve(err.message));
  });
  if (problem === null) return true;
  const why = `${name} at 127.0.0.1:${port} is not reachable (${problem})`;
  if (REQUIRE_BROKERS) throw new Error(`${why}, and HERALD_REQUIRE_BROKERS=1 requires it`);
  console.warn(`\n${"!".repeat(78)}\n!! SKIPPING ${name} tests: ${why}.\n!! Set HERALD_REQUIRE_BROKERS=1 to make this a failure.\n${"!".repeat(78)}\n`);
  return false;
}

/** A port on 127.0.0.1 that nothing listens on (a broker that is down). */
export const closedPort = freePort;

/** A name no other test run uses: `herald-test-<prefix>-<hex>`. */
export const uniqueName = (prefix: string) => `herald-test-${prefix}-${randomBytes(5).toString("hex")}`;

export const SECRET = `whsec_${Buffer.alloc(32, 0x2a).toString("base64")}`;

/** A payload whose bytes a re-serialization would change (key order, spacing of numbers, non-ASCII). */
export const PAYLOAD = JSON.stringify({ z: 1, a: { "crème brûlée": "✓ 🎉", n: 1.5e-7 }, id: "evt_broker" });

/** The headers of contract §4 a delivered message must carry, with their values for `messageId`. */
export function expectWireHeaders(headers: Record<string, string>, messageId: string, eventType: string, body: Buffer): void {
  expect(headers).toMatchObject({
    "content-type": "application/json",
    "webhook-id": messageId,
    "x-webhook-id": messageId,
    "x-webhook-event": eventType,
    "x-webhook-attempt": "1",
  });
  expect(headers["user-agent"]).toMatch(/^Herald\//);
  expect(headers["x-webhook-signature"]).toMatch(/^[0-9a-f]{64}$/);
  // Standard Webhooks' own library verifies the delivered bytes with the delivered headers.
  expect(new StandardWebhook(SECRET).verify(body.toString("utf8"), headers)).toEqual(JSON.parse(PAYLOAD));
  expect(() => new StandardWebhook(SECRET).verify(`${body.toString("utf8")} `, headers)).toThrow();
}

/** The endpoint's attempts, oldest first, once there are at least `count`. */
export function attemptsOf(herald: Herald, endpointId: EndpointId, count: number, timeoutMs = 15_000): Promise<Attempt[]> {
  return eventually(async () => {
    const { data } = await herald.store.listEndpointAttempts(endpointId, { limit: 50 });
    return data.length >= count ? [...data].reverse() : null;
  }, timeoutMs);
}

/**
 * A started Herald (on the store `HERALD_TEST_STORE` selects) with one
 * application, retrying a failed attempt twice, 300 ms apart, unless
 * `settings` say otherwise; the caller runs `close` after the test.
 */
export async function openBrokerHerald(settings: Record<string, string> = {}): Promise<{ herald: Herald; app: Application; close: () => Promise<void> }> {
  const { herald, close } = await openTestHerald({ HERALD_RETRY_SCHEDULE: "0s,300ms,300ms", ...settings });
  try {
    await herald.start();
    return { herald, app: await createApp(herald), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Publishes `PAYLOAD` as an `order.created` message of `appId`. */
export const publishPayload = (herald: Herald, appId: string) =>
  herald.publish({ appId: appId as never, eventType: "order.created", payload: PAYLOAD, channels: null, eventId: null });
