import { afterEach, describe, expect, it } from "vitest";
import { createApp, createEndpoint, eventually, sleep } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { attemptsOf, fakeResolver, listenOn, openSecurityHerald, type SecurityHerald } from "./helpers.js";

/**
 * The SSRF guard end to end, through a real Herald and real receivers. Every
 * address here is loopback, and every name resolves (by an injected resolver)
 * to loopback: blocking is shown by refusing loopback, never by sending
 * anything towards a private or public network.
 */

let h: SecurityHerald | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
  h = undefined;
  receiver = undefined;
});

async function publishTo(url: string): Promise<string> {
  const app = await createApp(h!.herald);
  await createEndpoint(h!.herald, app, url); // straight into the store: the creation check is tested below
  await h!.herald.start();
  const { message } = await h!.herald.publish({ app: app.id, eventType: "order.created", payload: { n: 1 } });
  return message.id;
}

describe("the guard at every attempt", () => {
  it("refuses a loopback receiver by default: the attempt is recorded `blocked`, retried per schedule, and nothing arrives", async () => {
    receiver = await startReceiver();
    h = await openSecurityHerald({ HERALD_RETRY_SCHEDULE: "0s,50ms" });
    const messageId = await publishTo(`${receiver.url}/hook`);
    const attempts = await attemptsOf(h.herald, messageId, 2);
    for (const a of attempts) {
      expect(a.errorKind).toBe("blocked");
      expect(a.errorMessage).toMatch(/127\.0\.0\.1 is a loopback address; Herald delivers only to globally routable addresses unless HERALD_ALLOWED_NETWORKS includes it/);
      expect(a.statusCode).toBeNull();
    }
    const [delivery] = await eventually(async () => {
      const ds = await h!.herald.store.listDeliveries(messageId as never);
      return ds[0]?.status === "failed" ? ds : null;
    });
    expect(delivery!.attempts).toBe(2);
    await sleep(100);
    expect(receiver.received).toHaveLength(0);
  });

  it("judges every spelling of an address at attempt time (decimal, hex, short, IPv4-mapped, IPv6)", async () => {
    receiver = await startReceiver();
    const v6 = await listenOn("::1");
    const port = receiver.port;
    const urls = [`http://2130706433:${port}/`, `http://0x7f000001:${port}/`, `http://127.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`, `http://[::1]:${v6.port}/`];
    const fanOut = async () => {
      const app = await createApp(h!.herald);
      for (const url of urls) await createEndpoint(h!.herald, app, url); // straight into the store, past the creation check
      await h!.herald.start();
      return (await h!.herald.publish({ app: app.id, eventType: "a", payload: 1 })).message.id;
    };
    try {
      h = await openSecurityHerald();
      const blocked = await attemptsOf(h.herald, await fanOut(), urls.length);
      expect(blocked.map((a) => a.errorKind)).toEqual(urls.map(() => "blocked"));
      expect(blocked.map((a) => a.errorMessage).sort()).toEqual([
        expect.stringMatching(/^ERR_SSRF_BLOCKED: 127\.0\.0\.1 is a loopback address/),
        expect.stringMatching(/^ERR_SSRF_BLOCKED: 127\.0\.0\.1 is a loopback address/),
        expect.stringMatching(/^ERR_SSRF_BLOCKED: 127\.0\.0\.1 is a loopback address/),
        expect.stringMatching(/^ERR_SSRF_BLOCKED: ::1 is a loopback address/),
        expect.stringMatching(/^ERR_SSRF_BLOCKED: ::ffff:7f00:1 \(127\.0\.0\.1\) is a loopback address/),
      ]);
      await h.close();

      h = await openSecurityHerald({ HERALD_ALLOWED_NETWORKS: "127.0.0.0/8,::1/128" });
      const delivered = await attemptsOf(h.herald, await fanOut(), urls.length);
      expect(delivered.every((a) => a.success)).toBe(true);
      expect(receiver.received).toHaveLength(4);
      expect(v6.hits).toHaveLength(1);
    } finally {
      await v6.close();
    }
  });

  it("lets an allowed network through (HERALD_ALLOWED_NETWORKS=127.0.0.0/8)", async () => {
    receiver = await startReceiver();
    h = await openSecurityHerald({ HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" });
    const messageId = await publishTo(`${receiver.url}/hook`);
    await receiver.waitFor(1);
    const [attempt] = await attemptsOf(h.herald, messageId, 1);
    expect(attempt!.success).toBe(true);
  });

  it("judges a name by what it resolves to: refused by default, delivered when allowed", async () => {
    receiver = await startReceiver();
    const resolve = fakeResolver({ "hooks.herald.test": "127.0.0.1" });
    h = await openSecurityHerald({}, { resolve });
    const blockedId = await publishTo(`http://hooks.herald.test:${receiver.port}/hook`);
    const [blocked] = await attemptsOf(h.herald, blockedId, 1);
    expect(blocked!.errorKind).toBe("blocked");
    expect(blocked!.errorMessage).toMatch(/hooks\.herald\.test resolves to 127\.0\.0\.1, which is a loopback address/);
    expect(receiver.received).toHaveLength(0);
    await h.close();

    h = await openSecurityHerald({ HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" }, { resolve });
    const okId = await publishTo(`http://hooks.herald.test:${receiver.port}/hook`);
    const [got] = await receiver.waitFor(1);
    expect(got!.headers.host).toBe(`hooks.herald.test:${receiver.port}`);
    expect((await attemptsOf(h.herald, okId, 1))[0]!.success).toBe(true);
  });

  it("refuses a name when any of its addresses is refused", async () => {
    receiver = await startReceiver();
    const resolve = fakeResolver({ "mixed.herald.test": ["127.0.0.1", "::1"] });
    h = await openSecurityHerald({ HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" }, { resolve });
    const id = await publishTo(`http://mixed.herald.test:${receiver.port}/`);
    const [a] = await attemptsOf(h.herald, id, 1);
    expect(a!.errorKind).toBe("blocked");
    expect(a!.errorMessage).toMatch(/resolves to ::1, which is a loopback address/);
    expect(receiver.received).toHaveLength(0);
  });

  it("records a name that does not resolve as `dns`", async () => {
    h = await openSecurityHerald({ HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" }, { resolve: fakeResolver({}) });
    const id = await publishTo("http://nowhere.herald.test:9/");
    const [a] = await attemptsOf(h.herald, id, 1);
    expect(a!.errorKind).toBe("dns");
  });

  it("connects to the address it checked: a DNS answer that changes after the check is never connected to (rebinding)", async () => {
    // Only 127.0.0.2 is allowed. The name answers 127.0.0.2 first and 127.0.0.3
    // afterwards. A guard that checked one answer and let the socket resolve the
    // name again would connect to 127.0.0.3, where a second server waits on the same port.
    const good = await listenOn("127.0.0.2", 0, (_req, res) => res.writeHead(200, { connection: "close" }).end("ok"));
    const evil = await listenOn("127.0.0.3", good.port);
    try {
      let n = 0;
      const resolve = fakeResolver({ "rebind.herald.test": () => (n++ === 0 ? "127.0.0.2" : "127.0.0.3") });
      h = await openSecurityHerald({ HERALD_ALLOWED_NETWORKS: "127.0.0.2/32" }, { resolve, cacheMs: 0 });
      const app = await createApp(h.herald);
      await createEndpoint(h.herald, app, `http://rebind.herald.test:${good.port}/hook`);
      await h.herald.start();
      const first = await h.herald.publish({ app: app.id, eventType: "a", payload: 1 });
      const [a1] = await attemptsOf(h.herald, first.message.id, 1);
      expect(a1!.success).toBe(true);
      expect(resolve.calls).toEqual(["rebind.herald.test"]); // one lookup for check and connect alike

      // The connection was closed; the next attempt resolves again, gets 127.0.0.3, and is refused.
      const second = await h.herald.publish({ app: app.id, eventType: "a", payload: 2 });
      const [a2] = await attemptsOf(h.herald, second.message.id, 1);
      expect(a2!.errorKind).toBe("blocked");
      expect(a2!.errorMessage).toMatch(/rebind\.herald\.test resolves to 127\.0\.0\.3, which is a loopback address/);
      expect(resolve.calls).toHaveLength(2);
      expect(good.hits).toHaveLength(1);
      expect(evil.hits).toHaveLength(0);
    } finally {
      await good.close();
      await evil.close();
    }
  });
});

describe("the guard at creation (API 422 and the library)", () => {
  const KEY = "security-test-admin-key-0123";

  async function api(settings: Record<string, string> = {}) {
    h = await openSecurityHerald({ HERALD_API_KEY: KEY, ...settings }, { resolve: fakeResolver({}) });
    const { server } = await h.herald.listen();
    const app = await h.herald.createApplication({ name: "guarded" });
    return (url: string, authentication?: unknown) =>
      server.inject({
        method: "POST",
        url: `/api/v1/applications/${app.id}/endpoints`,
        headers: { authorization: `Bearer ${KEY}` },
        payload: { url, ...(authentication ? { authentication } : {}) },
      });
  }

  it("refuses a blocked literal address in any spelling with a clear 422", async () => {
    const create = await api();
    for (const url of ["http://127.0.0.1:8080/", "http://2130706433/", "http://0x7f000001/", "http://127.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://localhost/", "https://169.254.169.254/"]) {
      const res = await create(url);
      expect(res.statusCode, url).toBe(422);
      const body = res.json();
      expect(body.code).toBe("validation_failed");
      expect(body.detail).toMatch(/^\/url: .* is (a loopback|a link-local|a loopback name)/);
      expect(body.detail).toMatch(/HERALD_ALLOWED_NETWORKS/);
    }
  });

  it("refuses a blocked oauth2 token URL the same way", async () => {
    const create = await api();
    const res = await create("https://hooks.example.com/", { type: "oauth2", tokenUrl: "http://10.0.0.1/token", clientId: "c", clientSecret: "s3cret-s3cret" });
    expect(res.statusCode).toBe(422);
    expect(res.json().detail).toMatch(/^\/authentication\/tokenUrl: 10\.0\.0\.1 is a private address/);
  });

  it("accepts a name that does not resolve now (it is checked at every attempt), and loopback once allowed", async () => {
    const create = await api({ HERALD_ALLOWED_NETWORKS: "127.0.0.0/8,::1/128" });
    expect((await create("https://not-yet.herald.test/hook")).statusCode).toBe(201);
    expect((await create("http://127.0.0.1:9/")).statusCode).toBe(201);
    expect((await create("http://[::1]:9/")).statusCode).toBe(201);
  });

  it("the library's createEndpoint and updateEndpoint check the same", async () => {
    h = await openSecurityHerald();
    const app = await h.herald.createApplication({ name: "lib" });
    await expect(h.herald.createEndpoint(app.id, { url: "http://127.0.0.1/" })).rejects.toMatchObject({ code: "validation_failed" });
    const ep = await h.herald.createEndpoint(app.id, { url: "https://hooks.herald.test/" });
    await expect(h.herald.updateEndpoint(app.id, ep.id, { url: "http://[fe80::1]/" })).rejects.toThrow(/link-local/);
  });
});
