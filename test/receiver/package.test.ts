// herald-receiver as a user gets it: packed with `npm pack`, installed into an
// empty project that has no path back into this repository, and used from
// plain Node, as ESM and as CommonJS, on a delivery that a real Herald sent.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestHerald } from "../helpers/herald.js";
import { cleanEnv, filesUnder, type PackedInstall, packAndInstall } from "../helpers/pack.js";
import { startReceiver } from "../helpers/receiver.js";
import { SECRET, signed } from "./helpers.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const PACKAGE = join(REPO, "packages", "herald-receiver");
const SRC = join(PACKAGE, "src");
const DIST = join(PACKAGE, "dist");
const ENTRIES = ["index", "express", "fastify", "hono", "next"];

/**
 * Every module specifier a file imports, requires or re-exports, type-only
 * imports and `import()` types included, as TypeScript's own scanner reads them
 * (comments and examples in doc comments are not imports).
 */
function specifiers(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

describe("herald-receiver stays standalone", () => {
  it("imports nothing but its own modules and Node's built-ins (no server, no framework, not even types)", () => {
    const foreign: string[] = [];
    const sources = filesUnder(SRC, /\.ts$/);
    expect(sources.length).toBeGreaterThan(5);
    // The build too, when there is one: what the CommonJS output requires, what the declarations refer to.
    const built = statSync(DIST, { throwIfNoEntry: false }) ? filesUnder(DIST, /\.(js|d\.ts)$/) : [];
    for (const file of [...sources, ...built]) {
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        if (!spec.startsWith("./") && !spec.startsWith("node:")) foreign.push(`${file.slice(REPO.length)}: ${spec}`);
      }
    }
    expect(foreign).toEqual([]);
  });

  it("declares no dependency of any kind, no install script and no native build", () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8"));
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies", "bundleDependencies", "bundledDependencies"]) {
      expect(pkg[field], field).toBeUndefined();
    }
    for (const script of ["preinstall", "install", "postinstall", "prepare"]) expect(pkg.scripts?.[script], script).toBeUndefined();
    expect(pkg.gypfile).toBeUndefined();
    expect(readdirSync(PACKAGE)).not.toContain("binding.gyp");
  });

  it("has an ESM and a CommonJS build, each with its types, for every entry", () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8"));
    for (const entry of ENTRIES) {
      const key = entry === "index" ? "." : `./${entry}`;
      expect(pkg.exports[key], key).toEqual({
        import: { types: `./dist/esm/${entry}.d.ts`, default: `./dist/esm/${entry}.js` },
        require: { types: `./dist/cjs/${entry}.d.ts`, default: `./dist/cjs/${entry}.js` },
      });
    }
  });
});

describe("herald-receiver installed from its tarball into an empty project", () => {
  let work: string;
  let project: string;
  let packed: PackedInstall["packed"];

  beforeAll(() => {
    ({ work, project, packed } = packAndInstall(PACKAGE));
  }, 120_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("ships only its two builds and a README, and installs nothing else", () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths.filter((p) => !/^dist\/(esm|cjs)\/[a-z-]+\.(js|d\.ts)$/.test(p)).sort()).toEqual(["README.md", "dist/cjs/package.json", "package.json"]);
    expect(paths.some((p) => p.endsWith(".node"))).toBe(false);
    expect(readdirSync(join(project, "node_modules")).filter((name) => !name.startsWith("."))).toEqual(["herald-receiver"]);
  });

  it("verifies a real Herald delivery from ESM and from CommonJS, both schemes, and rejects a tampered body", async () => {
    const { herald, close } = await openTestHerald();
    const receiver = await startReceiver();
    let delivery: { body: string; headers: Record<string, unknown>; secret: string };
    try {
      await herald.start();
      await herald.createApplication({ name: "Shop", uid: "shop" });
      const endpoint = await herald.createEndpoint("shop", { url: `${receiver.url}/webhooks/herald` });
      await herald.publish({ app: "shop", eventType: "order.created", payload: { orderId: "ord_1", totalAmount: 1799 } });
      const [req] = await receiver.waitFor(1);
      delivery = { body: req!.body, headers: req!.headers, secret: endpoint.secret };
    } finally {
      await close();
      await receiver.close();
    }
    const input = join(work, "delivery.json");
    writeFileSync(input, JSON.stringify(delivery));

    // The same checks in both module systems; only how the package is loaded differs.
    const checks = `
      const d = JSON.parse(readFileSync(process.argv[2], "utf8"));
      const out = { adapters: [typeof webhookMiddleware, typeof fastifyWebhooks, typeof honoWebhooks, typeof withWebhook] };
      for (const scheme of ["standard", "seed"]) {
        const hook = receiver.verifyWebhookDetailed(d.body, d.headers, d.secret, { scheme });
        out[scheme] = { scheme: hook.scheme, id: hook.id, eventType: hook.eventType, attempt: hook.attempt, payload: hook.payload };
      }
      const tampered = d.body.replace("1799", "1");
      out.tampered = {};
      for (const scheme of ["auto", "standard", "seed"]) {
        try {
          receiver.verifyWebhook(tampered, d.headers, d.secret, { scheme });
          out.tampered[scheme] = "accepted";
        } catch (err) {
          out.tampered[scheme] = err instanceof receiver.WebhookVerificationError ? err.code : String(err);
        }
      }
      console.log(JSON.stringify(out));`;
    writeFileSync(
      join(project, "check.mjs"),
      `import { readFileSync } from "node:fs";
      import * as receiver from "herald-receiver";
      import { webhookMiddleware } from "herald-receiver/express";
      import { fastifyWebhooks } from "herald-receiver/fastify";
      import { honoWebhooks } from "herald-receiver/hono";
      import { withWebhook } from "herald-receiver/next";
      const loaded = import.meta.resolve("herald-receiver");
      ${checks.replace("const out = {", "const out = { loaded,")}`,
    );
    writeFileSync(
      join(project, "check.cjs"),
      `const { readFileSync } = require("node:fs");
      const receiver = require("herald-receiver");
      const { webhookMiddleware } = require("herald-receiver/express");
      const { fastifyWebhooks } = require("herald-receiver/fastify");
      const { honoWebhooks } = require("herald-receiver/hono");
      const { withWebhook } = require("herald-receiver/next");
      const loaded = require.resolve("herald-receiver");
      ${checks.replace("const out = {", "const out = { loaded,")}`,
    );

    const id = (delivery.headers["webhook-id"] as string) ?? "";
    expect(id).toMatch(/^msg_/);
    const expected = {
      adapters: ["function", "function", "function", "function"],
      standard: { scheme: "standard", id, eventType: "order.created", attempt: 1, payload: { orderId: "ord_1", totalAmount: 1799 } },
      seed: { scheme: "seed", id, eventType: "order.created", attempt: 1, payload: { orderId: "ord_1", totalAmount: 1799 } },
      tampered: { auto: "invalid_signature", standard: "invalid_signature", seed: "invalid_signature" },
    };
    for (const [script, build] of [
      ["check.mjs", "esm"],
      ["check.cjs", "cjs"],
    ] as const) {
      const out = JSON.parse(execFileSync(process.execPath, [script, input], { cwd: project, env: cleanEnv(), encoding: "utf8" }));
      expect(out, script).toEqual({ ...expected, loaded: expect.stringContaining(`node_modules/herald-receiver/dist/${build}/index.js`) });
      expect(out.loaded.startsWith("file://") ? fileURLToPath(out.loaded) : out.loaded).not.toContain(REPO);
    }
  }, 60_000);

  it("type-checks for an ESM and a CommonJS consumer (the types of each build resolve)", () => {
    writeFileSync(
      join(project, "consumer.mts"),
      `import { type VerifiedWebhook, verifyWebhookDetailed, WebhookVerificationError } from "herald-receiver";
      import { withWebhook } from "herald-receiver/next";
      import { honoWebhooks, verifiedWebhook } from "herald-receiver/hono";
      export const hook: VerifiedWebhook<{ orderId: string }> = verifyWebhookDetailed<{ orderId: string }>("{}", {}, "whsec_x");
      export const code: string = new WebhookVerificationError("invalid_signature", "no").code;
      export const POST = withWebhook<{ orderId: string }>("whsec_x", async (h) => new Response(h.payload.orderId));
      export const mw = honoWebhooks("whsec_x");
      export const read = verifiedWebhook;`,
    );
    writeFileSync(
      join(project, "consumer.cts"),
      `import receiver = require("herald-receiver");
      import express = require("herald-receiver/express");
      import fastify = require("herald-receiver/fastify");
      export const payload: number = receiver.verifyWebhook<number>("1", {}, "whsec_x");
      export const mw = express.webhookMiddleware("whsec_x", { limitBytes: 1024 });
      export const plugin = fastify.fastifyWebhooks;`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(REPO, "node_modules", "@types")] },
        files: ["consumer.mts", "consumer.cts"],
      }),
    );
    // TypeScript itself comes from the repository (the project has none); what it resolves is the project's.
    const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
    const result = (() => {
      try {
        return execFileSync(process.execPath, [tsc, "-p", join(project, "tsconfig.json"), "--traceResolution"], { cwd: project, encoding: "utf8" });
      } catch (err) {
        throw new Error(String((err as { stdout?: string }).stdout ?? err));
      }
    })();
    expect(result).toMatch(/'herald-receiver' was successfully resolved to '[^']*node_modules\/herald-receiver\/dist\/esm\/index\.d\.ts'/);
    expect(result).toMatch(/'herald-receiver' was successfully resolved to '[^']*node_modules\/herald-receiver\/dist\/cjs\/index\.d\.ts'/);
  }, 60_000);
});

describe("herald/receiver, the root package's re-export", () => {
  it("still works from the built root package", () => {
    const work = mkdtempSync(join(tmpdir(), "herald-receiver-root-"));
    try {
      const input = join(work, "request.json");
      writeFileSync(input, JSON.stringify({ ...signed({ orderId: "ord_1" }, { id: "msg_root" }), secret: SECRET }));
      // Run from the repository root, so that `herald/receiver` is the package's self-reference to its own exports.
      const script = `
        import { readFileSync } from "node:fs";
        import * as receiver from "herald/receiver";
        const d = JSON.parse(readFileSync(process.argv[1], "utf8"));
        const hook = receiver.verifyWebhookDetailed(d.body, d.headers, d.secret);
        let tampered;
        try { receiver.verifyWebhook(d.body + " ", d.headers, d.secret); } catch (err) { tampered = err.code; }
        console.log(JSON.stringify({ id: hook.id, payload: hook.payload, tampered, exports: Object.keys(receiver).sort() }));`;
      const out = JSON.parse(execFileSync(process.execPath, ["--input-type=module", "-e", script, input], { cwd: REPO, env: cleanEnv(), encoding: "utf8" }));
      expect(out).toEqual({
        id: "msg_root",
        payload: { orderId: "ord_1" },
        tampered: "invalid_signature",
        exports: [
          "MemoryIdempotencyStore",
          "WebhookVerificationError",
          "createDeduplicator",
          "fastifyWebhooks",
          "rawJsonParser",
          "verifiedWebhook",
          "verifyWebhook",
          "verifyWebhookDetailed",
          "verifyWebhookSignature",
          "webhookMiddleware",
          "webhookPreHandler",
        ],
      });
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
