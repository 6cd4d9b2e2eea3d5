import { createServer } from "node:http";
import { Command } from "commander";
import { request } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { type Listener, registerListen, startListener } from "../../src/cli/listen.js";
import { sendWebhook } from "../../src/cli/send.js";
import { close, listen, OLD_SECRET, post, SECRET, signed } from "../receiver/helpers.js";

const listeners: Listener[] = [];
afterEach(async () => {
  await Promise.all(listeners.splice(0).map((l) => l.close()));
});

async function start(secret?: string | string[]) {
  const lines: string[] = [];
  const listener = await startListener({ port: 0, secret, write: (t) => lines.push(t) });
  listeners.push(listener);
  return { listener, output: () => lines.join("") };
}

const payload = { type: "order.created", data: { orderId: "ord_1", total: 1799 } };
const pretty = JSON.stringify(payload, null, 2);

describe("startListener", () => {
  it("binds 127.0.0.1 by default and prints one line per webhook, then the pretty body", async () => {
    const { listener, output } = await start();
    expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await post(`${listener.url}/hooks/orders`, signed(payload, { id: "msg_listen", eventType: "order.created", attempt: 2 }));
    expect(res.status).toBe(200);
    expect(output()).toBe(`POST /hooks/orders  order.created  msg_listen  attempt 2  (no secret given)\n${pretty}\n\n`);
  });

  it("with a secret: ✓ verified and 200 for a good signature", async () => {
    const { listener, output } = await start(SECRET);
    expect((await post(`${listener.url}/x`, signed(payload, { id: "msg_ok" }))).status).toBe(200);
    expect(output().split("\n")[0]).toBe("POST /x  order.created  msg_ok  attempt 1  ✓ verified");
  });

  it("with a secret: ✗ signature invalid and 401 for a wrong secret, a stale timestamp or no signature", async () => {
    const { listener, output } = await start(SECRET);
    const cases = [
      signed(payload, { secrets: [OLD_SECRET] }),
      signed(payload, { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
      { body: JSON.stringify(payload), headers: { "content-type": "application/json" } },
    ];
    for (const req of cases) expect(await post(`${listener.url}/x`, req)).toMatchObject({ status: 401, json: { code: "invalid_signature" } });
    const verdicts = output()
      .split("\n")
      .filter((l) => l.startsWith("POST"))
      .map((l) => l.slice(l.indexOf("✗")));
    expect(verdicts).toEqual([
      expect.stringMatching(/^✗ signature invalid \(invalid_signature/),
      expect.stringMatching(/^✗ signature invalid \(timestamp_too_old/),
      expect.stringMatching(/^✗ signature invalid \(missing_headers/),
    ]);
  });

  it("accepts either secret of a rotation", async () => {
    const { listener } = await start([SECRET, OLD_SECRET]);
    expect((await post(`${listener.url}/x`, signed(payload, { secrets: [OLD_SECRET] }))).status).toBe(200);
  });

  it("prints a body that is not JSON as it came, and an empty one as such", async () => {
    const { listener, output } = await start();
    await post(`${listener.url}/a`, { body: "plain text", headers: { "content-type": "text/plain" } });
    await post(`${listener.url}/b`, { body: "", headers: {} });
    expect(output()).toBe("POST /a  -  -  attempt -  (no secret given)\nplain text\n\nPOST /b  -  -  attempt -  (no secret given)\n(empty body)\n\n");
  });

  it("answers 405 to anything but POST", async () => {
    const { listener, output } = await start();
    const res = await request(`${listener.url}/`, { method: "GET" });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe("POST");
    await res.body.dump();
    expect(output()).toContain("GET /  405");
  });

  it("refuses a malformed secret at start", async () => {
    for (const bad of ["", "whsec_", "not-a-secret", "whsec_###"]) {
      await expect(startListener({ port: 0, secret: bad })).rejects.toMatchObject({ code: "invalid_secret" });
    }
  });

  it("receives what sendWebhook sends and verifies it", async () => {
    const { listener, output } = await start(SECRET);
    const res = await sendWebhook({ url: `${listener.url}/roundtrip`, eventType: "pet.adopted", payload, secret: SECRET, id: "msg_round" });
    expect(res).toMatchObject({ status: 200, ok: true });
    expect(output()).toBe(`POST /roundtrip  pet.adopted  msg_round  attempt 1  ✓ verified\n${pretty}\n\n`);
  });

  it("close() is idempotent and frees the port", async () => {
    const { listener } = await start();
    await Promise.all([listener.close(), listener.close()]);
    await expect(request(`${listener.url}/`, { method: "POST", body: "{}" })).rejects.toThrow();
  });
});

describe("herald listen (registered command)", () => {
  function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    let exitCode: number | undefined;
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const program = new Command("herald").exitOverride();
    registerListen(program, { out: (t) => out.push(t), err: (l) => err.push(l), exit: (c) => (exitCode = c), stopped });
    const done = program.parseAsync(["node", "herald", "listen", ...args]);
    return { done, stop, out, err, exitCode: () => exitCode };
  }

  it("serves until stopped, verifying with --secret", async () => {
    const cli = run(["--port", "0", "--secret", SECRET]);
    let url: string | undefined;
    for (let i = 0; i < 100 && !url; i++) {
      url = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(cli.out.join(""))?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 10));
    }
    expect(cli.out.join("")).toContain("signatures are checked");
    expect((await post(`${url}/hook`, signed(payload))).status).toBe(200);
    expect((await post(`${url}/hook`, signed(payload, { secrets: [OLD_SECRET] }))).status).toBe(401);
    cli.stop();
    await cli.done;
    expect(cli.exitCode()).toBeUndefined();
    expect(cli.out.join("")).toContain("✓ verified");
    expect(cli.out.join("")).toContain("✗ signature invalid");
    expect(cli.out.join("")).not.toContain(SECRET);
    await expect(request(`${url}/hook`, { method: "POST", body: "{}" })).rejects.toThrow();
  });

  it("exits 2 with one line for a bad port or secret, without printing the secret", async () => {
    const badPort = run(["--port", "70000"]);
    await badPort.done;
    expect(badPort.exitCode()).toBe(2);
    expect(badPort.err).toEqual([expect.stringMatching(/^herald listen: --port must be/)]);

    const secret = "whsec_short!secret";
    const badSecret = run(["--port", "0", "--secret", secret]);
    await badSecret.done;
    expect(badSecret.exitCode()).toBe(2);
    expect(badSecret.err).toEqual([expect.stringMatching(/^herald listen: --secret /)]);
    expect(badSecret.err.join("") + badSecret.out.join("")).not.toContain(secret);
  });

  it("exits 1 with one line when the port is taken", async () => {
    const taken = createServer();
    const url = await listen(taken);
    try {
      const cli = run(["--port", new URL(url).port]);
      await cli.done;
      expect(cli.exitCode()).toBe(1);
      expect(cli.err).toEqual([expect.stringMatching(/already in use/)]);
    } finally {
      await close(taken);
    }
  });
});
