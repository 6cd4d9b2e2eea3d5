import { type ChildProcess, spawn } from "node:child_process";
import { afterEach, describe, expect, it } from "vitest";
import { verifyWebhook } from "../../src/receiver/index.js";
import { openTestHerald } from "../helpers/herald.js";
import { OLD_SECRET, post, SECRET, signed } from "./helpers.js";
import { guide, now, payload, program, recipe, run, seedCases, standardCases } from "./recipes.js";

/**
 * The Node and Python recipes of docs/receiving.md (./recipes.ts takes them
 * from the guide), run against requests signed by Herald's signer and as
 * receivers of a running Herald's deliveries.
 */
const nodeHarness = (call: string) => `import { readFileSync as readCases } from "node:fs";
const cases = JSON.parse(readCases(0, "utf8"));
console.log(JSON.stringify(cases.map((c) => { const rawBody = Buffer.from(c.body, "base64"); return ${call}; })));`;

const pythonHarness = (call: string) => `import base64 as b64, json as js, sys as system
cases = js.load(system.stdin)
print(js.dumps([(lambda c, body: ${call})(c, b64.b64decode(c["body"])) for c in cases]))`;

describe("docs/receiving.md", () => {
  it("has every recipe the tests run", () => {
    for (const name of ["node-standard", "node-seed", "node-server", "python-standard", "python-seed", "python-server"]) {
      expect(recipe(name).length).toBeGreaterThan(100);
    }
  });

  it("shows an example delivery whose signatures are real", () => {
    const block = /<!-- example: delivery -->\n```http\n([\s\S]*?)\n```/.exec(guide)![1]!;
    const [head, body] = block.split("\n\n") as [string, string];
    const headers = Object.fromEntries(
      head
        .split("\n")
        .slice(1)
        .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]),
    );
    const secret = /the secret is `(whsec_[^`]+)`/.exec(guide)![1]!;
    const opts = { now: () => Number(headers["webhook-timestamp"]) * 1000 };
    for (const scheme of ["standard", "seed"] as const) {
      expect(verifyWebhook(body, headers, secret, { ...opts, scheme })).toMatchObject({ eventType: "order.created" });
    }
  });
});

describe("the guide's Node recipes", () => {
  it("node-standard accepts exactly the good requests", () => {
    const path = program("standard.mjs", recipe("node-standard"), nodeHarness("verifyStandardWebhook(c.secret, c.headers, rawBody)"));
    expect(run("node", path, standardCases)).toEqual(standardCases.map((c) => c.expected));
  });

  it("node-seed accepts exactly the good requests", () => {
    const path = program("seed.mjs", recipe("node-seed"), nodeHarness('verifySeedWebhook(c.secret, c.headers["x-webhook-signature"], rawBody)'));
    expect(run("node", path, seedCases)).toEqual(seedCases.map((c) => c.expected));
  });
});

describe("the guide's Python recipes (python3, standard library only)", () => {
  it("python-standard accepts exactly the good requests", () => {
    const path = program("standard.py", recipe("python-standard"), pythonHarness('verify_standard_webhook(c["secret"], c["headers"], body)'));
    expect(run("python3", path, standardCases)).toEqual(standardCases.map((c) => c.expected));
  });

  it("python-seed accepts exactly the good requests", () => {
    const path = program("seed.py", recipe("python-seed"), pythonHarness('verify_seed_webhook(c["secret"], c["headers"].get("x-webhook-signature"), body)'));
    expect(run("python3", path, seedCases)).toEqual(seedCases.map((c) => c.expected));
  });
});

describe("the guide's complete receivers, over real HTTP", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill();
    child = undefined;
  });

  async function startServer(cmd: string, path: string): Promise<{ url: string; output: () => string }> {
    let out = "";
    let err = "";
    child = spawn(cmd, [path], { env: { ...process.env, PORT: "0", WEBHOOK_SECRET: SECRET }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    const url = await waitFor(() => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1], () => `no start-up line; stderr: ${err}`);
    return { url, output: () => out };
  }

  async function waitFor<T>(probe: () => T | undefined, why: () => string): Promise<T> {
    for (let i = 0; i < 500; i++) {
      const value = probe();
      if (value !== undefined) return value;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(why());
  }

  /**
   * The receiver's "received …" lines, complete ones only: a pipe may hand over a line in two chunks,
   * and the part read so far must not be taken for the whole event.
   */
  function receivedLines(output: string): string[] {
    return output
      .split("\n")
      .slice(0, -1)
      .filter((l) => l.startsWith("received "));
  }

  /** Good, duplicate, forged, stale; then a second message, whose line proves the earlier ones were processed. */
  async function exercise(url: string, output: () => string) {
    const first = signed(payload, { id: "msg_recipe_1" });
    const retry = signed(payload, { id: "msg_recipe_1", attempt: 2 });
    const forged = signed(payload, { id: "msg_recipe_x", secrets: [OLD_SECRET] });
    const stale = signed(payload, { id: "msg_recipe_y", timestamp: now() - 3600 });
    const second = signed({ type: "order.shipped", n: 2 }, { id: "msg_recipe_2", eventType: "order.shipped" });
    expect((await post(`${url}/webhooks`, first)).status).toBe(204);
    expect((await post(`${url}/webhooks`, retry)).status).toBe(204);
    expect((await post(`${url}/webhooks`, forged)).status).toBe(401);
    expect((await post(`${url}/webhooks`, stale)).status).toBe(401);
    expect((await post(`${url}/webhooks`, second)).status).toBe(204);
    await waitFor(() => (receivedLines(output()).some((l) => l.startsWith("received order.shipped ")) ? true : undefined), () => `no second event in: ${output()}`);
    const received = receivedLines(output()).map((l) => {
      const [, type, json] = /^received (\S+) (.*)$/.exec(l)!;
      return { type, event: JSON.parse(json!) };
    });
    expect(received).toEqual([
      { type: "order.created", event: payload },
      { type: "order.shipped", event: { type: "order.shipped", n: 2 } },
    ]);
  }

  it("node-server verifies, dedups on webhook-id and answers 204/401", async () => {
    const path = program("server.mjs", recipe("node-standard"), recipe("node-server"));
    const { url, output } = await startServer("node", path);
    await exercise(url, output);
  });

  it("python-server verifies, dedups on webhook-id and answers 204/401", async () => {
    const path = program("server.py", recipe("python-standard"), recipe("python-server"));
    const { url, output } = await startServer("python3", path);
    await exercise(url, output);
  });

  /** The recipes as receivers of real deliveries from a running Herald, retries included. */
  for (const [name, cmd, file, parts] of [
    ["node-server", "node", "live.mjs", ["node-standard", "node-server"]],
    ["python-server", "python3", "live.py", ["python-standard", "python-server"]],
  ] as const) {
    it(`${name} receives Herald's own deliveries, verified`, async () => {
      const { url, output } = await startServer(cmd, program(file, ...parts.map(recipe)));
      const { herald, close } = await openTestHerald();
      try {
        await herald.start();
        await herald.createApplication({ name: "recipes", uid: "recipes" });
        await herald.createEndpoint("recipes", { url: `${url}/webhooks`, secret: SECRET });
        const events = [
          { type: "order.created", data: { id: "ord_1", note: "é ✓ 日本" } },
          { type: "order.shipped", data: { id: "ord_1" } },
        ];
        for (const e of events) await herald.publish({ app: "recipes", eventType: e.type, payload: e });
        await waitFor(() => (receivedLines(output()).length >= 2 ? true : undefined), () => `got: ${output()}`);
        const received = receivedLines(output()).map((l) => JSON.parse(/^received \S+ (.*)$/.exec(l)![1]!));
        expect(received.sort((a, b) => a.type.localeCompare(b.type))).toEqual(events);
        const attempts = await herald.store.listEndpointAttempts((await herald.store.listEndpoints((await herald.application("recipes")).id, { limit: 1 })).data[0]!.id, { limit: 10 });
        expect(attempts.data.every((a) => a.success && a.statusCode === 204)).toBe(true);
      } finally {
        await close();
      }
    });
  }
});
