import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { AmqpDestination, type BrokerDestinationOptions, NatsDestination, RedisDestination } from "../../../src/delivery/destinations/index.js";
import { SsrfGuard } from "../../../src/security/guard.js";

/**
 * A "broker" that accepts connections and never says a word (a hung server,
 * a black-holing proxy): each attempt costs at most its timeout, and closing
 * the destination does not wait for it. Needs no real broker.
 */
let server: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function silentServer(): Promise<number> {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

const options: BrokerDestinationOptions = { guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"] }) };

describe("a broker that accepts and never answers", () => {
  it.each([
    ["amqp", (port: number) => `amqp://127.0.0.1:${port}/?exchange=e`, () => new AmqpDestination(options)],
    ["nats", (port: number) => `nats://127.0.0.1:${port}/orders`, () => new NatsDestination(options)],
    ["redis", (port: number) => `redis://127.0.0.1:${port}/0?stream=s`, () => new RedisDestination(options)],
  ] as const)("%s: the attempt is a timeout within its deadline, and close() does not hang", async (_name, url, make) => {
    const port = await silentServer();
    const destination = make();
    const started = Date.now();
    const result = await destination.send({ url: new URL(url(port)), headers: {}, body: "{}", timeoutMs: 500 });
    expect(result).toMatchObject({ ok: false, errorKind: "timeout" });
    expect(Date.now() - started).toBeLessThan(2000);
    const closing = Date.now();
    await destination.close();
    expect(Date.now() - closing).toBeLessThan(2000);
  });
});
