import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openTestHerald, sleep } from "../helpers/herald.js";
import { freePort } from "../helpers/process.js";
import { OLD_SECRET, post, SECRET, signed } from "./helpers.js";
import { now, payload, program, recipe, run, seedCases, standardCases } from "./recipes.js";

/**
 * The PHP and Go recipes of docs/receiving.md, as printed: their checks
 * against requests signed by Herald's signer, and their endpoints as
 * receivers over real HTTP, of hand-made requests and of a running Herald's
 * deliveries. CI installs `php-cli` and `golang-go` (.ci/run); elsewhere a
 * missing toolchain skips its part, and under CI it fails.
 */
function installed(cmd: string, arg: string): boolean {
  try {
    execFileSync(cmd, [arg], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const required = process.env.CI === "true";
const hasPhp = required || installed("php", "--version");
const hasGo = required || installed("go", "version");

const phpHarness = (call: string) => `<?php
require __DIR__ . '/verify.php';
$cases = json_decode(file_get_contents('php://stdin'), true);
echo json_encode(array_map(fn($c) => ${call}, $cases));
`;

const goHarness = (call: string) => `package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"time"
)

type testCase struct {
	Secret  string            \`json:"secret"\`
	Headers map[string]string \`json:"headers"\`
	Body    string            \`json:"body"\`
}

var _ = time.Minute

func main() {
	var cases []testCase
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	results := make([]bool, len(cases))
	for i, c := range cases {
		header := http.Header{}
		for name, value := range c.Headers {
			header.Set(name, value)
		}
		body, err := base64.StdEncoding.DecodeString(c.Body)
		if err != nil {
			panic(err)
		}
		results[i] = ${call}
	}
	out, _ := json.Marshal(results)
	fmt.Println(string(out))
}
`;

/** Builds the Go files into one binary (the first build compiles the standard library: allow for it). */
function goBuild(name: string, files: string[]): string {
  const binary = join(dirname(files[0]!), name);
  execFileSync("go", ["build", "-o", binary, ...files], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, GO111MODULE: "off" } });
  return binary;
}

describe.skipIf(!hasPhp)("the guide's PHP recipe (php-cli)", () => {
  it("has its two parts", () => {
    expect(recipe("php-verify")).toContain("function verifyStandardWebhook");
    expect(recipe("php-endpoint")).toContain("require __DIR__ . '/verify.php';");
  });

  it("verifyStandardWebhook accepts exactly the good requests", () => {
    program("verify.php", recipe("php-verify"));
    const path = program("standard-harness.php", phpHarness("verifyStandardWebhook($c['secret'], $c['headers'], base64_decode($c['body']))"));
    expect(run("php", path, standardCases)).toEqual(standardCases.map((c) => c.expected));
  });

  it("verifySeedWebhook accepts exactly the good requests", () => {
    program("verify.php", recipe("php-verify"));
    const path = program("seed-harness.php", phpHarness("verifySeedWebhook($c['secret'], $c['headers']['x-webhook-signature'] ?? '', base64_decode($c['body']))"));
    expect(run("php", path, seedCases)).toEqual(seedCases.map((c) => c.expected));
  });
});

describe.skipIf(!hasGo)("the guide's Go recipe (go)", () => {
  it("VerifyStandard accepts exactly the good requests", { timeout: 120_000 }, () => {
    const verify = program("verify.go", recipe("go-verify"));
    const harness = program("standard_harness.go", goHarness("VerifyStandard(c.Secret, header, body, 5*time.Minute)"));
    expect(run(goBuild("standard-harness", [verify, harness]), [], standardCases)).toEqual(standardCases.map((c) => c.expected));
  });

  it("VerifySeed accepts exactly the good requests", { timeout: 120_000 }, () => {
    const verify = program("verify.go", recipe("go-verify"));
    const harness = program("seed_harness.go", goHarness("VerifySeed(c.Secret, header, body)"));
    expect(run(goBuild("seed-harness", [verify, harness]), [], seedCases)).toEqual(seedCases.map((c) => c.expected));
  });
});

describe("the guide's PHP and Go endpoints, over real HTTP", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill();
    child = undefined;
  });

  /** Starts the endpoint on a port of its own; resolves once it answers (any status). */
  async function start(cmd: string, args: string[], port: number): Promise<void> {
    let err = "";
    child = spawn(cmd, args, { env: { ...process.env, PORT: String(port), WEBHOOK_SECRET: SECRET }, stdio: ["ignore", "ignore", "pipe"] });
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    for (let i = 0; i < 500; i++) {
      try {
        await fetch(`http://127.0.0.1:${port}/`);
        return;
      } catch {
        await sleep(10);
      }
    }
    throw new Error(`${cmd} did not start; stderr: ${err}`);
  }

  /** Good, forged and stale requests by hand, then two messages from a running Herald: every attempt a 204. */
  async function exercise(url: string) {
    expect((await post(url, signed(payload))).status).toBe(204);
    expect((await post(url, signed(payload, { secrets: [OLD_SECRET] }))).status).toBe(401);
    expect((await post(url, signed(payload, { timestamp: now() - 3600 }))).status).toBe(401);

    const { herald, close } = await openTestHerald();
    try {
      await herald.start();
      await herald.createApplication({ name: "recipes", uid: "recipes" });
      const endpoint = await herald.createEndpoint("recipes", { url, secret: SECRET });
      for (const type of ["order.created", "order.shipped"]) await herald.publish({ app: "recipes", eventType: type, payload: { type, data: { note: "é ✓ 日本" } } });
      let attempts: { success: boolean; statusCode: number | null }[] = [];
      for (let i = 0; i < 500 && attempts.length < 2; i++) {
        attempts = (await herald.store.listEndpointAttempts(endpoint.id, { limit: 10 })).data;
        if (attempts.length < 2) await sleep(10);
      }
      expect(attempts.map((a) => [a.success, a.statusCode])).toEqual([
        [true, 204],
        [true, 204],
      ]);
    } finally {
      await close();
    }
  }

  it.skipIf(!hasPhp)("php-endpoint answers 204 to Herald's deliveries and 401 to forged or stale ones", async () => {
    program("verify.php", recipe("php-verify"));
    const endpoint = program("webhook.php", recipe("php-endpoint"));
    const port = await freePort();
    await start("php", ["-S", `127.0.0.1:${port}`, endpoint], port);
    await exercise(`http://127.0.0.1:${port}/webhooks/herald`);
  });

  it.skipIf(!hasGo)("go-server answers 204 to Herald's deliveries and 401 to forged or stale ones", { timeout: 120_000 }, async () => {
    const binary = goBuild("go-server", [program("verify.go", recipe("go-verify")), program("main.go", recipe("go-server"))]);
    const port = await freePort();
    await start(binary, [], port);
    await exercise(`http://127.0.0.1:${port}/webhooks/herald`);
  });
});
