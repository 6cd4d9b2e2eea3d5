import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HttpDestination, type PreparedAttempt } from "../../src/delivery/destinations/index.js";
import { SsrfGuard } from "../../src/security/guard.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/** What the HTTP destination keeps of an answer, read straight from a real receiver on 127.0.0.1. */
describe("the HTTP destination's answers", () => {
  let receiver: Receiver;
  let destination: HttpDestination;
  /** Remote ports of the connections the receiver accepted, in order. */
  let connections: number[];

  beforeEach(async () => {
    receiver = await startReceiver();
    connections = [];
    receiver.server.on("connection", (socket) => connections.push(socket.remotePort ?? 0));
    destination = new HttpDestination({ guard: new SsrfGuard({ allowedNetworks: ["127.0.0.0/8"] }) });
  });
  afterEach(async () => {
    await destination.close(true);
    await receiver.close();
  });

  const attempt = (timeoutMs = 2000): PreparedAttempt => ({
    url: new URL(`${receiver.url}/hook?x=1`),
    headers: { "content-type": "application/json", "webhook-id": "msg_1" },
    body: '{"a":1}',
    timeoutMs,
  });

  it("keeps the status, every header (names lower-cased, repeats joined) and the body; the request arrives whole", async () => {
    receiver.behave((_r, res) => {
      res.setHeader("X-Trace", ["one", "two"]);
      res.setHeader("Content-Type", "text/plain; charset=utf-8");
      res.writeHead(201);
      res.write("héllo ");
      res.end("wörld");
    });
    const result = await destination.send(attempt());
    expect(result).toMatchObject({ ok: true, statusCode: 201, body: "héllo wörld", errorKind: null, errorMessage: null });
    expect(result.headers).toMatchObject({ "x-trace": "one, two", "content-type": "text/plain; charset=utf-8" });
    const [received] = await receiver.waitFor(1);
    expect(received).toMatchObject({ method: "POST", path: "/hook?x=1", body: '{"a":1}' });
    expect(received?.headers["webhook-id"]).toBe("msg_1");
  });

  it("keeps headers named like object properties as plain headers", async () => {
    receiver.behave((_r, res) => {
      res.setHeader("Constructor", "c");
      res.setHeader("__proto__", "p");
      res.end("ok");
    });
    const result = await destination.send(attempt());
    expect(Object.getPrototypeOf(result.headers)).toBe(Object.prototype);
    expect(result.headers?.constructor).toBe("c");
    expect(Object.getOwnPropertyDescriptor(result.headers, "__proto__")?.value).toBe("p");
    expect(JSON.parse(JSON.stringify(result.headers))).toMatchObject({ constructor: "c" });
  });

  it("records a non-2xx answer as http_status, with its body", async () => {
    receiver.behave((_r, res) => {
      res.writeHead(503, { "retry-after": "7" });
      res.end("busy");
    });
    const result = await destination.send(attempt());
    expect(result).toMatchObject({ ok: false, statusCode: 503, body: "busy", errorKind: "http_status", errorMessage: "HTTP 503" });
    expect(result.headers?.["retry-after"]).toBe("7");
  });

  it("keeps 4 KiB of a 40 KiB body and drains the rest, so the next attempt reuses the connection", async () => {
    receiver.behave((_r, res) => {
      res.writeHead(200);
      res.end(Buffer.alloc(40 * 1024, "y"));
    });
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await destination.send(attempt()));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(results[0]?.body).toBe("y".repeat(4096));
    // undici's pool alternates between two idle connections; a connection given up per attempt would make six.
    expect(connections.length).toBeLessThanOrEqual(2);
  });

  it("gives up a connection whose body is over the drain limit, keeping the 200 and the first 4 KiB", async () => {
    receiver.behave((_r, res) => {
      res.writeHead(200);
      res.end(Buffer.alloc(2 * 1024 * 1024, "z"));
    });
    for (let i = 0; i < 3; i++) {
      const result = await destination.send(attempt());
      expect(result).toMatchObject({ ok: true, statusCode: 200 });
      expect(result.body).toBe("z".repeat(4096));
    }
    expect(connections.length).toBeGreaterThanOrEqual(3); // a new one for every attempt: each was cut off
  });

  it("keeps the status of an answer whose body is cut off by a reset", async () => {
    receiver.behave((_r, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial", () => res.socket?.destroy());
    });
    const result = await destination.send(attempt());
    expect(result).toMatchObject({ ok: true, statusCode: 200 });
    expect(result.body).toBe("partial");
  });

  it("is a timeout when no answer comes before the deadline, and a reset when the connection drops before one", async () => {
    receiver.behave(() => undefined); // never answers
    const late = await destination.send(attempt(300));
    expect(late).toMatchObject({ ok: false, statusCode: null, errorKind: "timeout" });
    receiver.behave((_r, res) => void res.socket?.destroy());
    const reset = await destination.send(attempt());
    expect(reset).toMatchObject({ ok: false, statusCode: null, errorKind: "connection_reset" });
  });
});
