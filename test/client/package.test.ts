// herald-client as a user gets it: its generated types current with the
// server's OpenAPI document, packed with `npm pack`, installed offline into an
// empty project with no path back into this repository, and used from plain
// Node (ESM and CommonJS) against a real running Herald, and from TypeScript.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestHerald } from "../helpers/herald.js";
import { cleanEnv, type PackedInstall, packAndInstall } from "../helpers/pack.js";
import { startReceiver } from "../helpers/receiver.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const PACKAGE = join(REPO, "packages", "herald-client");
const SRC = join(PACKAGE, "src");
const GENERATED = join(SRC, "generated", "schema.ts");
const API_KEY = "client-test-admin-key-0123456789";
/** Runs a script of the consumer project without blocking this process, where the Herald it calls serves. */
const run = async (args: string[], cwd: string) => (await promisify(execFile)(process.execPath, args, { cwd, env: cleanEnv(), encoding: "utf8", timeout: 30_000 })).stdout;

describe("herald-client's generated types", () => {
  it("are what the server's OpenAPI document generates now (else: stale generated client: run npm run generate:client)", () => {
    const work = mkdtempSync(join(tmpdir(), "herald-client-generate-"));
    try {
      const fresh = join(work, "schema.ts");
      // Uses the server's build (dist/), as `npm test` makes it.
      execFileSync(process.execPath, [join(PACKAGE, "scripts", "generate.mjs"), "--out", fresh], { cwd: REPO, env: cleanEnv(), stdio: "pipe" });
      const same = readFileSync(fresh, "utf8") === readFileSync(GENERATED, "utf8");
      expect(same, "stale generated client: run npm run generate:client").toBe(true);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 60_000);

  it("the package declares no runtime dependency and no install script", () => {
    const pkg = JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8"));
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies", "bundleDependencies", "bundledDependencies"]) {
      expect(pkg[field], field).toBeUndefined();
    }
    for (const script of ["preinstall", "install", "postinstall", "prepare"]) expect(pkg.scripts?.[script], script).toBeUndefined();
    expect(Object.keys(pkg.devDependencies ?? {})).toEqual(["openapi-typescript"]);
  });
});

describe("herald-client installed from its tarball into an empty project", () => {
  let work: string;
  let project: string;
  let packed: PackedInstall["packed"];

  beforeAll(() => {
    ({ work, project, packed } = packAndInstall(PACKAGE));
  }, 120_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("ships its two builds (the generated types included) and a README, and installs nothing else", () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths.filter((p) => !/^dist\/(esm|cjs)\/(generated\/)?[a-z-]+\.(js|d\.ts)$/.test(p)).sort()).toEqual(["README.md", "dist/cjs/package.json", "package.json"]);
    expect(paths).toContain("dist/esm/generated/schema.d.ts");
    expect(paths).toContain("dist/cjs/generated/schema.d.ts");
    expect(readdirSync(join(project, "node_modules")).filter((name) => !name.startsWith("."))).toEqual(["herald-client"]);
  });

  it("creates an application and an endpoint, publishes, pages through messages and gets a typed 422, from ESM; loads from CommonJS", async () => {
    const { herald, close } = await openTestHerald({ HERALD_API_KEY: API_KEY });
    const receiver = await startReceiver();
    try {
      const { url } = await herald.listen();
      writeFileSync(
        join(project, "use.mjs"),
        `import { createHeraldClient, HeraldApiError } from "herald-client";
        const [baseUrl, apiKey, receiverUrl] = process.argv.slice(2);
        const herald = createHeraldClient({ baseUrl, apiKey, retries: 2 });
        const app = await herald.POST("/api/v1/applications", { body: { name: "Shop", uid: "shop" } });
        const endpoint = await herald.POST("/api/v1/applications/{app}/endpoints", { params: { path: { app: app.id } }, body: { url: receiverUrl + "/webhooks" } });
        const published = [];
        for (let i = 1; i <= 5; i++) {
          const msg = await herald.POST("/api/v1/applications/{app}/messages", {
            params: { path: { app: "shop" }, header: { "Idempotency-Key": "order-" + i } },
            body: { eventType: "order.created", payload: { orderId: "ord_" + i } },
          });
          published.push(msg.id);
        }
        const again = await herald.POST("/api/v1/applications/{app}/messages", {
          params: { path: { app: "shop" }, header: { "Idempotency-Key": "order-1" } },
          body: { eventType: "order.created", payload: { orderId: "ord_1" } },
        });
        const firstPage = await herald.GET("/api/v1/applications/{app}/messages", { params: { path: { app: "shop" }, query: { limit: 2 } } });
        const paged = [];
        for await (const msg of herald.paginate("/api/v1/applications/{app}/messages", { params: { path: { app: "shop" }, query: { limit: 2 } } })) paged.push(msg.id);
        let invalid;
        try {
          await herald.POST("/api/v1/applications", { body: { name: "" } });
        } catch (err) {
          invalid = { isHeraldApiError: err instanceof HeraldApiError, name: err.name, status: err.status, code: err.code, detail: typeof err.detail, errors: err.errors };
        }
        let unauthorized;
        try {
          await createHeraldClient({ baseUrl, apiKey: "wrong-key-0000000000" }).GET("/api/v1/applications");
        } catch (err) {
          unauthorized = { status: err.status, code: err.code };
        }
        console.log(JSON.stringify({
          loaded: import.meta.resolve("herald-client"),
          app: { id: app.id, uid: app.uid },
          endpoint: { id: endpoint.id, url: endpoint.url, secret: endpoint.secret.startsWith("whsec_") },
          published, again: again.id, firstPage: { size: firstPage.data.length, more: typeof firstPage.nextCursor }, paged, invalid, unauthorized,
        }));`,
      );
      const esm = JSON.parse(await run(["use.mjs", url, API_KEY, receiver.url], project));
      expect(esm.loaded).toContain("node_modules/herald-client/dist/esm/index.js");
      expect(fileURLToPath(esm.loaded)).not.toContain(REPO);
      expect(esm.app).toEqual({ id: expect.stringMatching(/^app_/), uid: "shop" });
      expect(esm.endpoint).toEqual({ id: expect.stringMatching(/^ep_/), url: `${receiver.url}/webhooks`, secret: true });
      expect(esm.published).toHaveLength(5);
      expect(esm.again).toBe(esm.published[0]); // the same Idempotency-Key answers the first message
      expect(esm.firstPage).toEqual({ size: 2, more: "string" });
      expect(esm.paged).toEqual([...esm.published].reverse()); // every message, newest first, over three pages of two
      expect(esm.invalid).toMatchObject({ isHeraldApiError: true, name: "HeraldApiError", status: 422, code: "validation_failed", detail: "string" });
      expect(esm.invalid.errors.length).toBeGreaterThan(0);
      expect(esm.invalid.errors[0]).toEqual({ path: expect.stringContaining("name"), message: expect.any(String) });
      expect(esm.unauthorized).toEqual({ status: 401, code: "unauthorized" });

      writeFileSync(
        join(project, "use.cjs"),
        `const { createHeraldClient, HeraldApiError } = require("herald-client");
        const [baseUrl, apiKey] = process.argv.slice(2);
        const herald = createHeraldClient({ baseUrl, apiKey });
        (async () => {
          const apps = await herald.GET("/api/v1/applications");
          let missing;
          try { await herald.GET("/api/v1/applications/{app}", { params: { path: { app: "nope" } } }); } catch (err) { missing = { typed: err instanceof HeraldApiError, status: err.status, code: err.code }; }
          console.log(JSON.stringify({ loaded: require.resolve("herald-client"), uids: apps.data.map((a) => a.uid), missing }));
        })();`,
      );
      const cjs = JSON.parse(await run(["use.cjs", url, API_KEY], project));
      expect(cjs).toEqual({
        loaded: expect.stringContaining("node_modules/herald-client/dist/cjs/index.js"),
        uids: ["shop"],
        missing: { typed: true, status: 404, code: "not_found" },
      });
    } finally {
      await close();
      await receiver.close();
    }
  }, 60_000);

  it("type-checks a consumer against the installed types, ESM and CommonJS, and rejects a wrong call", () => {
    const consumer = `
      export async function use(herald: HeraldClient) {
        const app: Schemas["Application"] = await herald.POST("/api/v1/applications", { body: { name: "Shop" } });
        const ep = await herald.POST("/api/v1/applications/{app}/endpoints", { params: { path: { app: app.id } }, body: { url: "https://example.com/hooks", events: ["order.*"] } });
        const secret: string = ep.secret;
        const msg = await herald.POST("/api/v1/applications/{app}/messages", {
          params: { path: { app: app.id }, header: { "Idempotency-Key": "k1" } },
          body: { eventType: "order.created", payload: { orderId: "1" } },
        });
        const ids: string[] = [msg.id];
        for await (const m of herald.paginate("/api/v1/applications/{app}/messages", { params: { path: { app: app.id }, query: { limit: 2 } } })) ids.push(m.id);
        try {
          await herald.DELETE("/api/v1/applications/{app}", { params: { path: { app: app.id } } });
        } catch (err) {
          if (err instanceof HeraldApiError) return { status: err.status as number, code: err.code as string, paths: err.errors.map((e) => e.path) };
        }
        return { secret, ids };
      }`;
    writeFileSync(
      join(project, "consumer.mts"),
      `import { createHeraldClient, HeraldApiError, type HeraldClient, type Schemas } from "herald-client";
      export const client: HeraldClient = createHeraldClient({ baseUrl: "http://127.0.0.1:8080", apiKey: "k", retries: 1 });
      ${consumer}`,
    );
    writeFileSync(
      join(project, "consumer.cts"),
      `import herald = require("herald-client");
      type HeraldClient = herald.HeraldClient;
      type Schemas = herald.Schemas;
      const HeraldApiError = herald.HeraldApiError;
      export const client: HeraldClient = herald.createHeraldClient({ baseUrl: "http://127.0.0.1:8080", apiKey: "k" });
      ${consumer}`,
    );
    writeFileSync(
      join(project, "wrong.mts"),
      `import { createHeraldClient } from "herald-client";
      const herald = createHeraldClient({ baseUrl: "http://127.0.0.1:8080", apiKey: "k" });
      await herald.POST("/api/v1/applications", { body: { name: 42 } });
      await herald.GET("/api/v1/applications/{app}");
      await herald.GET("/api/v1/no-such-path");
      export {};`,
    );
    const tsc = join(REPO, "node_modules", "typescript", "bin", "tsc");
    const check = (files: string[]) => {
      writeFileSync(
        join(project, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, types: ["node"], typeRoots: [join(REPO, "node_modules", "@types")] },
          files,
        }),
      );
      try {
        return { ok: true, out: execFileSync(process.execPath, [tsc, "-p", join(project, "tsconfig.json"), "--traceResolution"], { cwd: project, encoding: "utf8" }) };
      } catch (err) {
        return { ok: false, out: String((err as { stdout?: string }).stdout ?? err) };
      }
    };
    const good = check(["consumer.mts", "consumer.cts"]);
    expect(good.ok, good.out.split("\n").filter((l) => l.includes("error")).join("\n")).toBe(true);
    expect(good.out).toMatch(/'herald-client' was successfully resolved to '[^']*node_modules\/herald-client\/dist\/esm\/index\.d\.ts'/);
    expect(good.out).toMatch(/'herald-client' was successfully resolved to '[^']*node_modules\/herald-client\/dist\/cjs\/index\.d\.ts'/);
    const bad = check(["wrong.mts"]);
    expect(bad.ok).toBe(false);
    const errors = bad.out.split("\n").filter((l) => /^wrong\.mts\(\d+,\d+\): error/.test(l));
    expect(errors.map((l) => Number(/^wrong\.mts\((\d+),/.exec(l)![1]))).toEqual([3, 4, 5]);
  }, 60_000);
});
