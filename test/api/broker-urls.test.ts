import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasMaskedCredentials, parseBrokerUrl, withoutCredentials } from "../../src/core/broker-url.js";
import type { ApplicationId } from "../../src/core/ids.js";
import { brokerLogin } from "../../src/delivery/destinations/broker.js";
import { urlProblem } from "../../src/service/endpoint-input.js";
import { openTestHerald } from "../helpers/herald.js";
import { openApi, type TestApi } from "./helpers.js";

/** Broker URLs (contract §8) at the door: accepted with their required parts, a 422 naming what is missing otherwise. */
let t: TestApi;
let appId: ApplicationId;
const base = "/api/v1/applications/brokers/endpoints";
beforeAll(async () => {
  t = await openApi();
  appId = (await t.call("POST", "/api/v1/applications", { name: "Brokers", uid: "brokers" })).body.id;
});
afterAll(() => t.close());

const create = (url: string) => t.call("POST", base, { url });

describe("broker endpoint URLs over the API", () => {
  it.each([
    "amqp://broker.example.com/?exchange=events&routingKey=orders",
    "amqp://user:p%40ss@broker.example.com:5673/prod?exchange=events",
    "amqp://broker.example.com?exchange=&routingKey=orders-queue",
    "nats://nats.example.com/orders.created",
    "nats://token@nats.example.com:4223/orders",
    "redis://redis.example.com/2?stream=herald:orders",
    "redis://:secret@redis.example.com:6380?stream=s",
    "amqps://user:pass@broker.example.com/prod?exchange=events",
    "tls://token@nats.example.com/orders.created",
    "rediss://default:secret@redis.example.com:6380/1?stream=s",
  ])("accepts %s", async (url) => {
    const res = await create(url);
    expect(res.status).toBe(201);
    expect(res.body.url).toBe(withoutCredentials(url));
    expect((await t.store.getEndpoint(appId, res.body.id))?.url).toBe(url);
  });

  it.each([
    ["amqp://broker.example.com/?routingKey=orders", /must name its exchange: \?exchange=NAME/],
    ["amqp://broker.example.com/a/b?exchange=e", /path is the vhost: one segment/],
    ["nats://nats.example.com", /must name its subject as its path/],
    ["nats://nats.example.com/orders.*", /not a subject a message can be published to/],
    ["nats://nats.example.com/orders..created", /not a subject/],
    ["redis://redis.example.com/0", /must name its stream: \?stream=KEY/],
    ["redis://redis.example.com/zero?stream=s", /path is the database number/],
    ["kafka://broker.example.com/topic", /must use http, https, amqp, amqps, nats, tls, redis or rediss/],
    ["amqps://broker.example.com/", /must name its exchange/],
    ["tls://nats.example.com", /must name its subject/],
    ["rediss://redis.example.com/0", /must name its stream/],
  ])("refuses %s with a 422 on /url that says what is missing", async (url, message) => {
    const res = await create(url);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors).toEqual([{ path: "/url", message: expect.stringMatching(message) }]);
  });

  it("refuses a broker URL on a PATCH the same way, and keeps the old one", async () => {
    const ok = await create("redis://redis.example.com/0?stream=a");
    const res = await t.call("PATCH", `${base}/${ok.body.id}`, { url: "redis://redis.example.com/0" });
    expect(res.status).toBe(422);
    expect((await t.call("GET", `${base}/${ok.body.id}`)).body.url).toBe("redis://redis.example.com/0?stream=a");
  });

  it("refuses oauth2 authentication on a broker endpoint (it applies to http ones)", async () => {
    const authentication = { type: "oauth2", tokenUrl: "https://auth.example.com/token", clientId: "c", clientSecret: "s" };
    const res = await t.call("POST", base, { url: "nats://nats.example.com/orders", authentication });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: "/authentication", message: expect.stringMatching(/oauth2 applies to http\(s\) endpoints/) }]);
  });

  it("still refuses credentials in http URLs, and a broker URL as an OAuth 2.0 token URL", () => {
    expect(urlProblem("https://u:p@example.com/hook")).toMatch(/must not contain credentials/);
    expect(urlProblem("amqp://example.com/?exchange=e", false)).toBe("must use http or https");
  });
});

describe("a broker URL's credentials over the API", () => {
  const secretUrl = "amqp://orders:s3cret-pass@broker.example.com/prod?exchange=events";
  const shown = "amqp://orders:***@broker.example.com/prod?exchange=events";

  it("are shown as *** wherever the endpoint is read, and kept as sent", async () => {
    const created = await create(secretUrl);
    expect(created.status).toBe(201);
    expect(created.body.url).toBe(shown);
    expect((await t.call("GET", `${base}/${created.body.id}`)).body.url).toBe(shown);
    const listed = (await t.call("GET", `${base}?limit=100`)).body.data.find((e: { id: string }) => e.id === created.body.id);
    expect(listed.url).toBe(shown);
    expect(JSON.stringify((await t.call("GET", `${base}/${created.body.id}`)).body)).not.toContain("s3cret");
    expect((await t.store.getEndpoint(appId, created.body.id))?.url).toBe(secretUrl);
  });

  it("stay as stored when the URL comes back as shown (an edit form), and change when new ones are sent", async () => {
    const { id } = (await create(secretUrl)).body;
    const edited = await t.call("PATCH", `${base}/${id}`, { url: shown, description: "orders" });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ url: shown, description: "orders" });
    expect((await t.store.getEndpoint(appId, id))?.url).toBe(secretUrl);

    const rotated = "amqp://orders:n3w-pass@broker.example.com/prod?exchange=events";
    expect((await t.call("PATCH", `${base}/${id}`, { url: rotated })).body.url).toBe(shown);
    expect((await t.store.getEndpoint(appId, id))?.url).toBe(rotated);
  });

  it("refuses *** as a password or token anywhere else: on a new endpoint, or with another URL", async () => {
    const { id } = (await create(secretUrl)).body;
    for (const [method, path, url] of [
      ["POST", base, shown],
      ["POST", base, "nats://***@nats.example.com/orders"],
      ["PATCH", `${base}/${id}`, "amqp://orders:***@other.example.com/prod?exchange=events"],
      ["PATCH", `${base}/${id}`, "amqp://someone:***@broker.example.com/prod?exchange=events"],
    ] as const) {
      const res = await t.call(method, path, { url });
      expect(res.status, `${method} ${url}`).toBe(422);
      expect(res.body.errors).toEqual([{ path: "/url", message: expect.stringMatching(/\*\*\* for its password or token/) }]);
    }
    expect((await t.store.getEndpoint(appId, id))?.url).toBe(secretUrl);
  });

  it("tells a shown URL from real credentials", () => {
    expect(hasMaskedCredentials(shown)).toBe(true);
    expect(hasMaskedCredentials("nats://***@h/a")).toBe(true);
    expect(hasMaskedCredentials("redis://:***@h/0?stream=s")).toBe(true);
    expect(hasMaskedCredentials(secretUrl)).toBe(false);
    expect(hasMaskedCredentials("amqp://***:pw@h/?exchange=e")).toBe(false);
    expect(hasMaskedCredentials("https://example.com/hook?x=***@")).toBe(false);
  });
});

describe("broker URLs and the SSRF guard at the door", () => {
  it("refuses a broker on a private or loopback address unless its network is allowed", async () => {
    const { herald, close } = await openTestHerald({ HERALD_ALLOWED_NETWORKS: "" });
    try {
      const app = await herald.createApplication({ name: "ssrf" });
      for (const url of ["amqp://10.0.0.5/?exchange=e", "nats://127.0.0.1/orders", "redis://localhost/0?stream=s", "redis://[::1]:6379?stream=s"]) {
        await expect(herald.createEndpoint(app.id, { url })).rejects.toMatchObject({ code: "validation_failed" });
      }
    } finally {
      await close();
    }
  });
});

describe("reading broker URLs", () => {
  it("reads defaults, decoded credentials and each scheme's parts", () => {
    expect(parseBrokerUrl(new URL("amqp://u:p%40ss@h/?exchange=e"))).toEqual({
      scheme: "amqp",
      host: "h",
      port: 5672,
      username: "u",
      password: "p@ss",
      tls: false,
      vhost: "/",
      exchange: "e",
      routingKey: "",
    });
    expect(parseBrokerUrl(new URL("amqp://h/%2Fprod?exchange=e&routingKey=k"))).toMatchObject({ vhost: "/prod", routingKey: "k" });
    expect(parseBrokerUrl(new URL("nats://h:4333/a.b"))).toMatchObject({ scheme: "nats", port: 4333, subject: "a.b" });
    expect(parseBrokerUrl(new URL("redis://h?stream=s"))).toMatchObject({ scheme: "redis", port: 6379, db: 0, stream: "s" });
  });

  it("reads each broker's TLS scheme as that broker over TLS, with TLS's default port", () => {
    expect(parseBrokerUrl(new URL("amqps://h/?exchange=e"))).toMatchObject({ scheme: "amqp", tls: true, port: 5671 });
    expect(parseBrokerUrl(new URL("tls://h/a.b"))).toMatchObject({ scheme: "nats", tls: true, port: 4222, subject: "a.b" });
    expect(parseBrokerUrl(new URL("rediss://h:6380?stream=s"))).toMatchObject({ scheme: "redis", tls: true, port: 6380 });
    for (const url of ["amqp://h/?exchange=e", "nats://h/a", "redis://h?stream=s"]) expect(parseBrokerUrl(new URL(url))).toMatchObject({ tls: false });
  });

  it("blanks out the password, or a lone token, for the attempt log", () => {
    expect(withoutCredentials("amqp://guest:s3cret@h:5672/?exchange=e")).toBe("amqp://guest:***@h:5672/?exchange=e");
    expect(withoutCredentials("nats://tok3n@h/a")).toBe("nats://***@h/a");
    expect(withoutCredentials("redis://:pw@h/0?stream=s")).toBe("redis://:***@h/0?stream=s");
    expect(withoutCredentials("https://example.com/hook?x=@")).toBe("https://example.com/hook?x=@");
  });
});

describe("a broker's login from the endpoint's authentication", () => {
  const target = (url: string) => parseBrokerUrl(new URL(url)) as Exclude<ReturnType<typeof parseBrokerUrl>, string>;
  const basic = `Basic ${Buffer.from("user:pa:ss").toString("base64")}`;

  it("reads basic as user and password, bearer as a NATS token or a password, and drops the header", () => {
    expect(brokerLogin(target("amqp://h/?exchange=e"), { authorization: basic, "webhook-id": "msg_1" })).toEqual({
      target: expect.objectContaining({ username: "user", password: "pa:ss" }),
      headers: { "webhook-id": "msg_1" },
    });
    expect(brokerLogin(target("nats://h/a"), { authorization: "Bearer t0k" }).target).toMatchObject({ username: "t0k", password: "" });
    expect(brokerLogin(target("redis://h?stream=s"), { authorization: "Bearer t0k" }).target).toMatchObject({ username: "", password: "t0k" });
  });

  it("lets the URL's own credentials win, and changes nothing without the header", () => {
    expect(brokerLogin(target("redis://u:p@h?stream=s"), { authorization: basic })).toEqual({
      target: expect.objectContaining({ username: "u", password: "p" }),
      headers: {},
    });
    const plain = target("nats://h/a");
    expect(brokerLogin(plain, { x: "1" })).toEqual({ target: plain, headers: { x: "1" } });
  });
});
