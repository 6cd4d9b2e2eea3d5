import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as connectTcp, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from "node:tls";
import amqp from "amqplib";
import { Redis } from "ioredis";
import { connect as connectNats, type NatsConnection } from "nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AmqpDestination, type BrokerDestinationOptions, NatsDestination, RedisDestination } from "../../../src/delivery/destinations/index.js";
import { SsrfGuard } from "../../../src/security/guard.js";
import { brokerAvailable, uniqueName } from "../../helpers/brokers.js";
import { sleep } from "../../helpers/herald.js";
import { adminPoster, freePort, spawnHerald } from "../../helpers/process.js";
import { fakeResolver } from "../../security/helpers.js";

/**
 * The brokers over TLS (`amqps:`, `rediss:`, NATS's `tls:`): RabbitMQ and
 * Redis behind a TLS-terminating proxy in this process, NATS as a server of
 * its own started with TLS. Each certificate is the test fixture for
 * broker.herald.test, a name that resolves to 127.0.0.1 here: the connection
 * goes to the checked address, and the certificate is verified against the name.
 */
const fixture = (name: string) => readFileSync(new URL(`../../security/fixtures/${name}`, import.meta.url));
const cert = fixture("receiver.cert.pem");
const key = fixture("receiver.key.pem");
const NAME = "receiver.herald.test";
const KEY = "broker-tls-admin-key-0123456789";

const resolve = fakeResolver({ [NAME]: "127.0.0.1", "impostor.herald.test": "127.0.0.1" });
const options: BrokerDestinationOptions = { guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"], resolve, cacheMs: 0 }), tls: { ca: cert } };
const attempt = (url: string, body = '{"n":1}') => ({ url: new URL(url), headers: { "webhook-id": "msg_tls", "x-webhook-event": "order.created" }, body, timeoutMs: 5000 });

interface ProxyOptions {
  /** The proxy's own certificate and key. Default: the fixture for receiver.herald.test. */
  identity?: { cert: Buffer; key: Buffer };
  /** Require a client certificate signed by (or equal to) this one. */
  clientCa?: Buffer;
}

/** A TLS front for a plain broker port; remembers the server name each client asked for, and its certificate's CN. */
async function tlsProxy(
  targetPort: number,
  o: ProxyOptions = {},
): Promise<{ port: number; servernames: (string | false | null)[]; clients: string[]; close: () => Promise<void> }> {
  const servernames: (string | false | null)[] = [];
  const clients: string[] = [];
  const sockets = new Set<Socket>();
  const mutual = o.clientCa ? { requestCert: true, rejectUnauthorized: true, ca: o.clientCa } : {};
  const server: TlsServer = createTlsServer({ ...(o.identity ?? { key, cert }), ...mutual }, (client: TLSSocket) => {
    servernames.push(client.servername);
    const subject = client.getPeerCertificate().subject;
    if (subject?.CN) clients.push(String(subject.CN));
    const upstream = connectTcp(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    servernames,
    clients,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const rabbit = await brokerAvailable("RabbitMQ");
const redis = await brokerAvailable("Redis");
const nats = await brokerAvailable("NATS");

describe.skipIf(!rabbit)("amqps: RabbitMQ over TLS", () => {
  it("publishes through TLS with the name as SNI, and refuses a certificate for another name", async () => {
    const proxy = await tlsProxy(5672);
    const admin = await amqp.connect("amqp://guest:guest@127.0.0.1:5672/");
    const ch = await admin.createChannel();
    const queue = uniqueName("q");
    await ch.assertQueue(queue, { durable: false });
    const destination = new AmqpDestination(options);
    try {
      // The default exchange routes by queue name.
      const ok = await destination.send(attempt(`amqps://guest:guest@${NAME}:${proxy.port}/?exchange=&routingKey=${queue}`));
      expect(ok).toMatchObject({ ok: true, errorKind: null });
      expect(proxy.servernames).toContain(NAME);
      const got = await ch.get(queue, { noAck: true });
      expect(got === false ? null : got.content.toString()).toBe('{"n":1}');

      const impostor = await destination.send(attempt(`amqps://guest:guest@impostor.herald.test:${proxy.port}/?exchange=&routingKey=${queue}`));
      expect(impostor).toMatchObject({ ok: false, errorKind: "tls" });
      expect(impostor.errorMessage).toMatch(/impostor\.herald\.test/);
      expect(impostor.errorMessage).not.toContain("guest:guest");
    } finally {
      await destination.close();
      await ch.deleteQueue(queue);
      await admin.close();
      await proxy.close();
    }
  });
});

describe.skipIf(!redis)("rediss: Redis Streams over TLS", () => {
  it("adds the entry through TLS with the name as SNI, and refuses a certificate for another name", async () => {
    const proxy = await tlsProxy(6379);
    const plain = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true });
    await plain.connect();
    const stream = uniqueName("stream");
    const destination = new RedisDestination(options);
    try {
      const ok = await destination.send(attempt(`rediss://${NAME}:${proxy.port}/0?stream=${stream}`));
      expect(ok).toMatchObject({ ok: true, errorKind: null });
      expect(proxy.servernames).toContain(NAME);
      const entries = await plain.xrange(stream, "-", "+");
      expect(entries).toHaveLength(1);
      expect(entries[0]![1].slice(0, 2)).toEqual(["body", '{"n":1}']);
      const impostor = await destination.send(attempt(`rediss://impostor.herald.test:${proxy.port}/0?stream=${stream}`));
      expect(impostor).toMatchObject({ ok: false, errorKind: "tls" });
    } finally {
      await destination.close();
      await plain.del(stream);
      plain.disconnect();
      await proxy.close();
    }
  });
});

describe.skipIf(!redis)("a client certificate for brokers over TLS (HERALD_BROKER_TLS_CERT, HERALD_BROKER_TLS_KEY)", () => {
  const clientCert = fixture("client.cert.pem");
  const clientKey = fixture("client.key.pem");

  it("is presented to a broker that requires one; without it the handshake fails", async () => {
    const proxy = await tlsProxy(6379, { clientCa: clientCert });
    const stream = uniqueName("stream");
    const withCert = new RedisDestination({ ...options, tls: { ca: cert, cert: clientCert, key: clientKey } });
    const without = new RedisDestination(options);
    const plain = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true });
    try {
      expect(await withCert.send(attempt(`rediss://${NAME}:${proxy.port}/0?stream=${stream}`))).toMatchObject({ ok: true });
      expect(proxy.clients).toEqual(["herald-client"]);
      const refused = await without.send(attempt(`rediss://${NAME}:${proxy.port}/0?stream=${stream}`));
      expect(refused.ok).toBe(false);
      await plain.connect();
      expect(await plain.xlen(stream)).toBe(1);
    } finally {
      await withCert.close();
      await without.close();
      await plain.del(stream).catch(() => undefined);
      plain.disconnect();
      await proxy.close();
    }
  });

  it("is taken from the settings by herald serve, end to end (a broker by IP, its CA from NODE_EXTRA_CA_CERTS)", async () => {
    const identity = { cert: fixture("broker-ip.cert.pem"), key: fixture("broker-ip.key.pem") };
    const proxy = await tlsProxy(6379, { identity, clientCa: clientCert });
    const stream = uniqueName("stream");
    const dir = mkdtempSync(join(tmpdir(), "herald-mtls-"));
    const port = await freePort();
    const fixturePath = (name: string) => new URL(`../../security/fixtures/${name}`, import.meta.url).pathname;
    const server = spawnHerald(["serve"], {
      HERALD_DATABASE_URL: `sqlite:${join(dir, "herald.db")}`,
      HERALD_PORT: String(port),
      HERALD_API_KEY: KEY,
      HERALD_ALLOWED_NETWORKS: "127.0.0.0/8",
      HERALD_BROKER_TLS_CERT: fixturePath("client.cert.pem"),
      HERALD_BROKER_TLS_KEY: fixturePath("client.key.pem"),
      NODE_EXTRA_CA_CERTS: fixturePath("broker-ip.cert.pem"),
    });
    const plain = new Redis({ host: "127.0.0.1", port: 6379, lazyConnect: true });
    const api = adminPoster(port, KEY, 2);
    try {
      await server.waitFor(/listening on/);
      await api.call("/applications", { name: "mtls", uid: "mtls" });
      await api.call("/applications/mtls/endpoints", { url: `rediss://127.0.0.1:${proxy.port}/0?stream=${stream}` });
      await api.call("/applications/mtls/messages", { eventType: "order.created", payload: { n: 1 } });
      await plain.connect();
      for (let i = 0; i < 500 && (await plain.xlen(stream)) === 0; i++) await sleep(10);
      expect(await plain.xlen(stream)).toBe(1);
      expect(proxy.clients).toContain("herald-client");
    } finally {
      await api.close();
      server.child.kill();
      await server.exited;
      await plain.del(stream).catch(() => undefined);
      plain.disconnect();
      await proxy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!nats)("tls: NATS JetStream over TLS", () => {
  let server: ChildProcess;
  let dir: string;
  let port: number;
  let admin: NatsConnection;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "herald-nats-tls-"));
    port = await freePort();
    const certFile = new URL("../../security/fixtures/receiver.cert.pem", import.meta.url).pathname;
    const keyFile = new URL("../../security/fixtures/receiver.key.pem", import.meta.url).pathname;
    server = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port), "-js", "-sd", dir, "--tls", "--tlscert", certFile, "--tlskey", keyFile], { stdio: "ignore" });
    for (let i = 0; i < 500; i++) {
      try {
        admin = await connectNats({ servers: `127.0.0.1:${port}`, tls: { ca: cert.toString(), servername: NAME } as never, reconnect: false });
        break;
      } catch {
        await sleep(20);
      }
    }
    expect(admin, "the TLS NATS server did not start").toBeDefined();
    await (await admin.jetstreamManager()).streams.add({ name: "TLS_ORDERS", subjects: ["tls.orders"] });
  });
  afterAll(async () => {
    await admin?.close();
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("publishes through TLS, verified against the name; a nats: URL to a server that requires TLS fails, and so does another name", async () => {
    const destination = new NatsDestination(options);
    try {
      const ok = await destination.send(attempt(`tls://${NAME}:${port}/tls.orders`));
      expect(ok).toMatchObject({ ok: true, errorKind: null });
      expect(JSON.parse(ok.body!)).toMatchObject({ stream: "TLS_ORDERS", seq: 1 });

      const impostor = await destination.send(attempt(`tls://impostor.herald.test:${port}/tls.orders`));
      expect(impostor).toMatchObject({ ok: false, errorKind: "tls" });
      expect(impostor.errorMessage).toMatch(/impostor\.herald\.test/);

      const plain = await destination.send(attempt(`nats://${NAME}:${port}/tls.orders`));
      expect(plain).toMatchObject({ ok: false, errorKind: "tls" });
      expect(plain.errorMessage).toBe(`NATS at 127.0.0.1:${port} requires TLS: use a tls:// URL (tls://${NAME}:${port}/tls.orders)`);
    } finally {
      await destination.close();
    }
  });
});
