import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type RequestListener, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { deliveryHeaders, InputError, parseSendFlags, registerSend, sendWebhook } from "../../src/cli/send.js";
import { isId } from "../../src/core/ids.js";
import { attemptHeaders } from "../../src/delivery/request.js";
import { verifyWebhookDetailed } from "../../src/receiver/index.js";
import type { DeliveryJob } from "../../src/store/store.js";
import { close, listen, OLD_SECRET, SECRET } from "../receiver/helpers.js";

const VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map(close));
});

/** A real receiver on 127.0.0.1 that records requests and answers with `answer`. */
async function receiver(answer: (req: Received, res: Parameters<RequestListener>[1]) => void = (_r, res) => res.end("ok")) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() };
      received.push(r);
      answer(r, res);
    });
  });
  servers.push(server);
  return { url: await listen(server), received };
}

const payload = { type: "order.created", data: { orderId: "ord_1", items: [{ sku: "A", qty: 2 }], note: "é" } };

describe("sendWebhook", () => {
  it("sends the same headers and compact body as a delivery, and they verify", async () => {
    const rx = await receiver((_r, res) => res.writeHead(201, { "x-trace": "abc" }).end("created"));
    const res = await sendWebhook({ url: `${rx.url}/hooks?x=1`, eventType: "order.created", payload, secret: SECRET });
    expect(res).toMatchObject({ status: 201, ok: true, body: "created" });
    expect(res.headers["x-trace"]).toBe("abc");
    const [got] = rx.received;
    expect(got).toMatchObject({ method: "POST", url: "/hooks?x=1", body: JSON.stringify(payload) });
    const h = got!.headers;
    expect(h).toMatchObject({
      "content-type": "application/json",
      "user-agent": `Herald/${VERSION}`,
      "x-webhook-event": "order.created",
      "x-webhook-attempt": "1",
    });
    expect(isId("msg", h["webhook-id"] as string)).toBe(true);
    expect(h["x-webhook-id"]).toBe(h["webhook-id"]);
    expect(Math.abs(Number(h["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
    expect(verifyWebhookDetailed(got!.body, h, SECRET, { scheme: "standard" }).payload).toEqual(payload);
    expect(verifyWebhookDetailed(got!.body, h, SECRET, { scheme: "seed" }).payload).toEqual(payload);
    expect(new StandardWebhook(SECRET).verify(got!.body, h as Record<string, string>)).toEqual(payload);
  });

  it("builds exactly the headers the delivery engine builds for a first attempt", () => {
    const now = 1_760_000_000_000;
    const id = "msg_01JZ0000000000000000000000";
    const body = JSON.stringify(payload);
    const job = {
      message: { id, eventType: "order.created", payload: body, createdAt: now },
      endpoint: { secret: SECRET, previousSecret: OLD_SECRET, previousSecretExpiresAt: now + 1000, headers: {}, authentication: null },
    } as unknown as DeliveryJob;
    const ours = deliveryHeaders({ url: "http://127.0.0.1/", eventType: "order.created", payload, secret: [SECRET, OLD_SECRET], now: () => now }, body, id);
    expect(ours).toEqual(attemptHeaders(job, 1, now));
  });

  it("uses --id, adds custom headers, and keeps Herald's own headers over them", async () => {
    const rx = await receiver();
    await sendWebhook({
      url: rx.url,
      eventType: "pet.adopted",
      payload: [1, 2],
      secret: SECRET,
      id: "msg_custom",
      headers: { "x-tenant": "acme", "x-webhook-event": "spoofed", "webhook-id": "spoofed" },
    });
    const h = rx.received[0]!.headers;
    expect(h).toMatchObject({ "x-tenant": "acme", "x-webhook-event": "pet.adopted", "webhook-id": "msg_custom", "x-webhook-id": "msg_custom" });
  });

  it("signs with every secret given, newest first, as during a rotation", async () => {
    const rx = await receiver();
    await sendWebhook({ url: rx.url, eventType: "t", payload: {}, secret: [SECRET, OLD_SECRET] });
    const { headers, body } = rx.received[0]!;
    expect(String(headers["webhook-signature"]).split(" ")).toHaveLength(2);
    expect(verifyWebhookDetailed(body, headers, OLD_SECRET, { scheme: "standard" }).payload).toEqual({});
    // x-webhook-signature carries the newest secret only.
    expect(verifyWebhookDetailed(body, headers, SECRET, { scheme: "seed" }).payload).toEqual({});
    expect(() => verifyWebhookDetailed(body, headers, OLD_SECRET, { scheme: "seed" })).toThrow();
  });

  it("does not follow redirects", async () => {
    const rx = await receiver((_r, res) => res.writeHead(302, { location: "/elsewhere" }).end());
    const res = await sendWebhook({ url: rx.url, eventType: "t", payload: {}, secret: SECRET });
    expect(res).toMatchObject({ status: 302, ok: false });
    expect(rx.received).toHaveLength(1);
  });

  it("reports a refused connection and a timeout as SendError", async () => {
    const rx = await receiver();
    const url = rx.url;
    await close(servers.pop()!);
    await expect(sendWebhook({ url, eventType: "t", payload: {}, secret: SECRET })).rejects.toMatchObject({
      name: "SendError",
      message: expect.stringMatching(/could not reach .*ECONNREFUSED/),
    });
    const silent = await receiver(() => {}); // never answers
    const started = Date.now();
    await expect(sendWebhook({ url: silent.url, eventType: "t", payload: {}, secret: SECRET, timeoutMs: 200 })).rejects.toMatchObject({
      message: expect.stringMatching(/no answer .* within 200 ms/),
    });
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("parseSendFlags", () => {
  const base = { eventType: "order.created", data: '{"a":1}', secret: [SECRET], timeout: "5s" };
  const problem = (url: string | undefined, flags: Partial<typeof base> & { header?: string[]; id?: string }) => {
    try {
      parseSendFlags(url, { ...base, ...flags }, () => "{}");
    } catch (err) {
      if (err instanceof InputError) return err.message;
      throw err;
    }
    return "accepted";
  };

  it("reads inline JSON, @file and @- (standard input)", () => {
    const dir = mkdtempSync(join(tmpdir(), "herald-send-"));
    const file = join(dir, "payload.json");
    writeFileSync(file, JSON.stringify(payload, null, 2));
    expect(parseSendFlags("http://127.0.0.1:1/", base).payload).toEqual({ a: 1 });
    expect(parseSendFlags("http://127.0.0.1:1/", { ...base, data: `@${file}` }).payload).toEqual(payload);
    expect(parseSendFlags("http://127.0.0.1:1/", { ...base, data: "@-" }, () => "[true]").payload).toEqual([true]);
  });

  it("turns --header name:value into lower-case headers and --timeout into ms", () => {
    const opts = parseSendFlags("http://127.0.0.1:1/", { ...base, header: ["X-Tenant: acme", "authorization:Bearer a:b"], timeout: "1500ms" });
    expect(opts.headers).toEqual({ "x-tenant": "acme", authorization: "Bearer a:b" });
    expect(opts.timeoutMs).toBe(1500);
  });

  it.each([
    [undefined, {}, /missing <url>/],
    ["not a url", {}, /is not a URL/],
    ["ftp://127.0.0.1/", {}, /http:\/\/ or https:\/\//],
    ["http://127.0.0.1/", { eventType: undefined }, /--event-type is required/],
    ["http://127.0.0.1/", { data: undefined }, /--data is required/],
    ["http://127.0.0.1/", { data: "{nope" }, /--data is not valid JSON/],
    ["http://127.0.0.1/", { data: "@/nonexistent/payload.json" }, /cannot read \/nonexistent\/payload\.json \(ENOENT\)/],
    ["http://127.0.0.1/", { secret: [] }, /--secret is required/],
    ["http://127.0.0.1/", { secret: ["hunter2hunter2"] }, /--secret must be an endpoint secret/],
    ["http://127.0.0.1/", { secret: ["whsec_"] }, /--secret must be an endpoint secret/],
    ["http://127.0.0.1/", { header: ["no-colon"] }, /--header "no-colon": expected name:value/],
    ["http://127.0.0.1/", { timeout: "soon" }, /--timeout "soon"/],
  ] as const)("%s %o → %s", (url, flags, expected) => {
    expect(problem(url, flags as Partial<typeof base>)).toMatch(expected);
  });

  it("never quotes the secret in its messages", () => {
    const secret = "whsec_this is not base64 but secret";
    expect(problem("http://127.0.0.1/", { secret: [secret] })).not.toContain("this is not");
  });
});

describe("herald send (registered command)", () => {
  async function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    let exitCode: number | undefined;
    const program = new Command("herald").exitOverride();
    registerSend(program, { out: (t) => out.push(t), err: (l) => err.push(l), exit: (c) => (exitCode = c) });
    await program.parseAsync(["node", "herald", "send", ...args]);
    return { out: out.join(""), err, exitCode };
  }

  it("prints the status, response headers and body, and exits 0 on 2xx", async () => {
    const rx = await receiver((_r, res) => res.writeHead(200, { "x-receiver": "yes" }).end('{"received":true}'));
    const r = await run([`${rx.url}/hooks`, "--event-type", "order.created", "--data", '{"orderId":"ord_1"}', "--secret", SECRET, "--id", "msg_cli"]);
    expect(r.exitCode).toBeUndefined();
    expect(r.err).toEqual([]);
    expect(r.out).toMatch(new RegExp(`^→ POST ${rx.url}/hooks  order\\.created  msg_cli  attempt 1\\n← 200 OK  \\(\\d+ ms\\)\\n`));
    expect(r.out).toContain("x-receiver: yes\n");
    expect(r.out).toMatch(/\n\{"received":true\}\n$/);
    expect(rx.received[0]!.body).toBe('{"orderId":"ord_1"}');
    expect(r.out).not.toContain(SECRET);
  });

  it("exits 1 with one stderr line on a non-2xx answer, after printing it", async () => {
    const rx = await receiver((_r, res) => res.writeHead(401).end("Invalid signature"));
    const r = await run([rx.url, "-e", "t", "-d", "{}", "-s", SECRET]);
    expect(r.exitCode).toBe(1);
    expect(r.out).toContain("← 401 Unauthorized");
    expect(r.out).toContain("Invalid signature");
    expect(r.err).toEqual([`herald send: ${rx.url}/ answered 401, not 2xx`]);
  });

  it("exits 1 with one stderr line when nothing answers", async () => {
    const rx = await receiver();
    await close(servers.pop()!);
    const r = await run([rx.url, "-e", "t", "-d", "{}", "-s", SECRET]);
    expect(r.exitCode).toBe(1);
    expect(r.err).toEqual([expect.stringMatching(/^herald send: could not reach .*ECONNREFUSED/)]);
    expect(r.out).toBe("");
  });

  it("exits 2 with one line on bad input and sends nothing; the secret is never printed", async () => {
    const rx = await receiver();
    const badSecret = "whsec_@@@@-secret-material";
    for (const args of [
      [rx.url, "-e", "t", "-d", "{oops", "-s", SECRET],
      [rx.url, "-e", "t", "-d", "@/nonexistent.json", "-s", SECRET],
      [rx.url, "-e", "t", "-d", "{}", "-s", badSecret],
      [rx.url, "-d", "{}", "-s", SECRET],
    ]) {
      const r = await run(args);
      expect(r.exitCode).toBe(2);
      expect(r.err).toHaveLength(1);
      expect(r.err[0]).toMatch(/^herald send: /);
      expect(r.err.join("") + r.out).not.toContain("secret-material");
    }
    expect(rx.received).toEqual([]);
  });

  it("--verbose also prints the headers it sent", async () => {
    const rx = await receiver();
    const r = await run([rx.url, "-e", "t", "-d", "{}", "-s", SECRET, "-v", "-H", "x-extra:1"]);
    expect(r.out).toMatch(/ {2}webhook-signature: v1,/);
    expect(r.out).toContain("  x-extra: 1\n");
    expect(r.out).toContain(`  user-agent: Herald/${VERSION}\n`);
  });
});
