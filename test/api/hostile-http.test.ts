import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import { openTestHerald } from "../helpers/herald.js";

/**
 * Requests a normal client would not send (issue 8 §2.3), sent as raw bytes
 * to a listening Herald: control bytes and oversize headers (refused by Node's
 * HTTP parser, answered in problem+json all the same), a repeated
 * `Idempotency-Key`, and an endpoint URL with port 0. Nothing is stored.
 */

const KEY = "hostile-http-admin-key-0123456789";
let herald: Herald;
let close: () => Promise<void>;
let port: number;
let appId: string;

beforeAll(async () => {
  ({ herald, close } = await openTestHerald({ HERALD_API_KEY: KEY, HERALD_API_RATE_LIMIT: "0" }));
  port = Number(new URL((await herald.listen()).url).port);
  appId = (await herald.createApplication({ name: "Raw", uid: "raw" })).id;
});
afterAll(() => close());

interface RawReply {
  status: number;
  headers: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
}

/** Writes `request` byte for byte on a fresh connection and reads the answer until the server closes it. */
function raw(request: string | Buffer): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // The server may close while we still write a huge request: what it answered counts.
      if (err.code !== "ECONNRESET" && err.code !== "EPIPE") reject(err);
    });
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      if (split < 0) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      const bodyText = text.slice(split + 4);
      resolve({ status: Number(statusLine!.split(" ")[1]), headers, body: bodyText ? JSON.parse(bodyText) : undefined });
    });
    socket.end(request);
  });
}

const publish = (headers: string[], body = '{"eventType":"order.created","payload":{"n":1}}') =>
  `POST /api/v1/applications/raw/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY}\r\n` +
  `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${headers.map((h) => `${h}\r\n`).join("")}\r\n${body}`;

const messages = async () => (await herald.store.listMessages(appId as never, {}, { limit: 250 })).data.length;

function expectProblem(res: RawReply, status: number, code: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
  expect(res.headers["x-content-type-options"]).toBe("nosniff");
  expect(res.body).toMatchObject({ status, code, type: `/problems/${code}` });
}

describe("errors of Node's HTTP parser", () => {
  it("answers control bytes in a header with 400 malformed_request, and stores nothing", async () => {
    const before = await messages();
    for (const header of ["X-Note: a\x01b", "X-Note: a\x00b", "X-Note: a\x7fb", "Idempotency-Key: k\x1b[31m", "X-No\x02te: 1", "X-Note: a\rb"]) {
      expectProblem(await raw(publish([header])), 400, "malformed_request");
    }
    expect(await messages()).toBe(before);
  });

  it("answers a 100 KB header with 431 headers_too_large", async () => {
    const before = await messages();
    expectProblem(await raw(publish([`X-Big: ${"x".repeat(100 * 1024)}`])), 431, "headers_too_large");
    expectProblem(await raw(publish(Array.from({ length: 2000 }, (_, i) => `X-Many-${i}: ${"y".repeat(20)}`))), 431, "headers_too_large");
    expect(await messages()).toBe(before);
  });

  it("answers a malformed request line with 400 malformed_request", async () => {
    expectProblem(await raw("GET /api/v1/applications HTTP/9.x\r\nHost: a\r\n\r\n"), 400, "malformed_request");
    expectProblem(await raw("GE\x00T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "malformed_request");
  });

  it("still answers a well-formed raw request normally", async () => {
    const res = await raw(publish([]));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.payload).toEqual({ n: 1 });
  });
});

describe("repeated Idempotency-Key", () => {
  it("is a 422 on headers.idempotency-key, not the key 'k1, k2', and stores nothing", async () => {
    const before = await messages();
    for (const repeated of [["Idempotency-Key: k1", "Idempotency-Key: k2"], ["Idempotency-Key: k1", "idempotency-key: k1"]]) {
      const res = await raw(publish(repeated));
      expectProblem(res, 422, "validation_failed");
      expect(res.body.errors).toEqual([{ path: "headers.idempotency-key", message: "must be 1–256 printable ASCII characters, sent once" }]);
    }
    expect(await messages()).toBe(before);
    // One header whose value has a comma is one key.
    const one = await raw(publish(["Idempotency-Key: k1, k2"]));
    expect(one.status).toBe(202);
    expect(one.body.eventId).toBe("k1, k2");
  });
});

describe("port 0 in an endpoint URL", () => {
  it("is a 422 on /url (API and library), and nothing is stored", async () => {
    for (const url of ["https://hooks.example.com:0/in", "http://hooks.example.com:00/", "https://[2001:4860::8888]:0/"]) {
      const body = JSON.stringify({ url });
      const res = await raw(
        `POST /api/v1/applications/raw/endpoints HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      expectProblem(res, 422, "validation_failed");
      expect(res.body.errors[0]).toMatchObject({ path: "/url", message: expect.stringMatching(/^port 0 /) });
      await expect(herald.createEndpoint("raw", { url })).rejects.toMatchObject({ code: "validation_failed" });
    }
    await expect(herald.createEndpoint("raw", { url: "https://hooks.example.com/", authentication: { type: "oauth2", tokenUrl: "https://auth.example.com:0/token", clientId: "c", clientSecret: "s" } })).rejects.toMatchObject({ code: "validation_failed" });
    expect((await herald.store.listEndpoints(appId as never, { limit: 250 })).data).toEqual([]);
  });
});
