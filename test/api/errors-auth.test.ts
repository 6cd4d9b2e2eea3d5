import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_KEY_SETTING, bearerToken, ensureAdminKey, sha256Hex } from "../../src/api/auth.js";
import { buildApi } from "../../src/api/server.js";
import { resolveConfig } from "../../src/config/config.js";
import { GroupCommitPublisher } from "../../src/publish/publisher.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { ADMIN_KEY, openApi, type TestApi } from "./helpers.js";

let t: TestApi;
beforeAll(async () => {
  t = await openApi();
});
afterAll(() => t.close());

function expectProblem(res: { status: number; headers: Record<string, unknown>; body: { code: string; type: string; status: number } }, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `/problems/${code}`, status, code });
  expect(typeof (res.body as { title?: unknown }).title).toBe("string");
  expect(typeof (res.body as { detail?: unknown }).detail).toBe("string");
}

describe("health", () => {
  it("answers /healthz and /readyz without a key", async () => {
    expect((await t.call("GET", "/healthz", undefined, { authorization: "" })).body).toEqual({ status: "ok" });
    const ready = await t.call("GET", "/readyz", undefined, { authorization: "" });
    expect(ready).toMatchObject({ status: 200, body: { status: "ok" } });
  });

  it("answers 503 from /readyz when the store does not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "herald-api-"));
    const store = openSqliteStore(join(dir, "h.db"));
    await store.migrate();
    const config = resolveConfig({ HERALD_API_KEY: "x".repeat(20) });
    const app = await buildApi({ store, config, publisher: new GroupCommitPublisher(store), logger: pino({ level: "silent" }), wake: () => {} });
    await store.close();
    const res = await app.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(503);
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("auth", () => {
  it("answers 401 with WWW-Authenticate when the key is missing", async () => {
    const res = await t.call("GET", "/api/v1/applications", undefined, { authorization: "" });
    expectProblem(res, 401, "unauthorized");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it("answers 401 for a wrong key, another scheme, or an unknown route without a key", async () => {
    expectProblem(await t.call("GET", "/api/v1/applications", undefined, { authorization: "Bearer wrong-key-wrong-key" }), 401, "unauthorized");
    expectProblem(await t.call("GET", "/api/v1/applications", undefined, { authorization: `Basic ${btoa("a:b")}` }), 401, "unauthorized");
    expectProblem(await t.call("GET", "/api/v1/nope", undefined, { authorization: "" }), 401, "unauthorized");
  });

  it("checks auth before reading the body", async () => {
    const res = await t.call("POST", "/api/v1/applications", "{not json", { authorization: "", "content-type": "application/json" });
    expectProblem(res, 401, "unauthorized");
  });

  it("parses the bearer scheme case-insensitively", () => {
    expect(bearerToken("bearer abc")).toBe("abc");
    expect(bearerToken("Bearer  abc ")).toBe("abc");
    expect(bearerToken("Bearer a b")).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });

  it("generates, stores hashed and accepts an admin key when HERALD_API_KEY is unset", async () => {
    const dir = mkdtempSync(join(tmpdir(), "herald-api-"));
    const store = openSqliteStore(join(dir, "h.db"));
    await store.migrate();
    const config = resolveConfig({});
    const first = await ensureAdminKey(store, config);
    expect(first.generatedKey).toMatch(/^hk_[A-Za-z0-9_-]{43}$/);
    expect(await store.getSetting(ADMIN_KEY_SETTING)).toBe(sha256Hex(first.generatedKey!));
    expect((await ensureAdminKey(store, config)).generatedKey).toBeNull();

    const publisher = new GroupCommitPublisher(store);
    const app = await buildApi({ store, config, publisher, logger: pino({ level: "silent" }), wake: () => {} });
    const ok = await app.inject({ method: "GET", url: "/api/v1/applications", headers: { authorization: `Bearer ${first.generatedKey}` } });
    expect(ok.statusCode).toBe(200);
    const bad = await app.inject({ method: "GET", url: "/api/v1/applications", headers: { authorization: `Bearer ${first.generatedKey}x` } });
    expect(bad.statusCode).toBe(401);
    await app.close();
    await publisher.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("uses HERALD_API_KEY as the key and stores nothing", async () => {
    expect((await ensureAdminKey(t.store, t.config)).generatedKey).toBeNull();
    expect(await t.store.getSetting(ADMIN_KEY_SETTING)).toBeNull();
  });
});

describe("errors", () => {
  it("answers 404 not_found for unknown routes", async () => {
    expectProblem(await t.call("GET", "/api/v1/nope"), 404, "not_found");
    expectProblem(await t.call("GET", "/nope", undefined, { authorization: "" }), 404, "not_found");
    expectProblem(await t.call("PUT", "/api/v1/applications"), 404, "not_found");
    expectProblem(await t.call("GET", "/api/v1/applications/%zz"), 404, "not_found");
  });

  it("answers 400 malformed_json for a body that is not JSON", async () => {
    const res = await t.call("POST", "/api/v1/applications", '{"name": "x",', { "content-type": "application/json" });
    expectProblem(res, 400, "malformed_json");
  });

  it("refuses prototype-poisoning keys as malformed", async () => {
    const res = await t.call("POST", "/api/v1/applications", '{"name":"x","__proto__":{"admin":true}}', { "content-type": "application/json" });
    expectProblem(res, 400, "malformed_json");
  });

  it("asks for a JSON body when there is none", async () => {
    const res = await t.call("POST", "/api/v1/applications");
    expectProblem(res, 422, "validation_failed");
    expect(res.body.errors).toEqual([{ path: "/", message: "must be a JSON object (send a JSON body)" }]);
  });

  it("answers 415 for a body that is not application/json", async () => {
    const bare = await t.app.inject({ method: "POST", url: "/api/v1/applications", payload: '{"name":"x"}', headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    expect(bare.statusCode).toBe(415);
    expectProblem(await t.call("POST", "/api/v1/applications", "name=x", { "content-type": "application/x-www-form-urlencoded" }), 415, "unsupported_media_type");
    expectProblem(await t.call("POST", "/api/v1/applications", '{"name":"x"}', { "content-type": "text/plain" }), 415, "unsupported_media_type");
  });

  it("answers 413 when the body is over the server's limit", async () => {
    const big = JSON.stringify({ name: "x".repeat(t.config.maxPayloadBytes + 70 * 1024) });
    expectProblem(await t.call("POST", "/api/v1/applications", big, { "content-type": "application/json" }), 413, "payload_too_large");
  });

  it("lists every violation: wrong types, unknown fields, missing fields", async () => {
    const res = await t.call("POST", "/api/v1/applications", { name: 5, extra: true, metadata: { a: 1 } });
    expectProblem(res, 422, "validation_failed");
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: "/name", message: "must be string" },
        { path: "/extra", message: "is not a known field" },
        { path: "/metadata/a", message: "must be string" },
      ]),
    );
    const missing = await t.call("POST", "/api/v1/applications", {});
    expect(missing.body.errors).toEqual([{ path: "/name", message: "is required" }]);
  });

  it("names the query part in query errors and rejects unknown query fields", async () => {
    const res = await t.call("GET", "/api/v1/applications?limit=abc&x=1");
    expectProblem(res, 422, "validation_failed");
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { path: "query.limit", message: "must be integer" },
        { path: "query.x", message: "is not a known field" },
      ]),
    );
  });

  it("answers an opaque 500 for an unexpected failure, and logs it", async () => {
    const original = t.store.listApplications;
    t.store.listApplications = async () => {
      throw new Error("disk on fire: secret detail");
    };
    try {
      const res = await t.call("GET", "/api/v1/applications");
      expectProblem(res, 500, "internal_error");
      expect(JSON.stringify(res.body)).not.toContain("disk on fire");
    } finally {
      t.store.listApplications = original;
    }
  });
});

describe("logging", () => {
  it("logs unexpected errors and never the API key", async () => {
    const lines: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), "herald-api-"));
    const store = openSqliteStore(join(dir, "h.db"));
    await store.migrate();
    const key = "very-secret-admin-key-123";
    const config = resolveConfig({ HERALD_API_KEY: key });
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(line) });
    const publisher = new GroupCommitPublisher(store);
    const app = await buildApi({ store, config, publisher, logger, wake: () => {} });
    store.listApplications = async () => {
      throw new Error("boom");
    };
    const res = await app.inject({ method: "GET", url: "/api/v1/applications", headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode).toBe(500);
    // Even a log line that carries the headers has the key redacted.
    app.log.info({ headers: { authorization: `Bearer ${key}` } }, "headers");
    app.log.info({ request: { headers: { authorization: `Bearer ${key}` } } }, "headers");
    const log = lines.join("");
    expect(log).toContain("boom");
    expect(log).toContain("[redacted]");
    expect(log).not.toContain(key);
    await app.close();
    await publisher.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
