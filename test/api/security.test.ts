import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeTable } from "../../src/api/route-table.js";
import { createLogger } from "../../src/log.js";
import { ADMIN_KEY, openApi, type TestApi } from "./helpers.js";

/** Security headers on every response, and secrets kept out of the logs. */

describe("security headers", () => {
  let t: TestApi;
  let ids: Record<string, string>;
  beforeAll(async () => {
    t = await openApi();
    const app = (await t.call("POST", "/api/v1/applications", { name: "h", uid: "h" })).body.id;
    const ep = (await t.call("POST", "/api/v1/applications/h/endpoints", { url: "https://example.com/" })).body.id;
    const msg = (await t.call("POST", "/api/v1/applications/h/messages", { eventType: "a.b", payload: {} })).body.id;
    await t.call("POST", "/api/v1/event-types", { name: "a.b" });
    const key = (await t.call("POST", "/api/v1/admin-keys", { name: "k" })).body.id;
    ids = { app, ep, msg, name: "a.b", id: key, file: "portal.js", "*": "app.js" };
  });
  afterAll(() => t.close());

  const base = (headers: Record<string, unknown>, what: string) => {
    expect(headers["x-content-type-options"], what).toBe("nosniff");
    expect(headers["referrer-policy"], what).toBe("no-referrer");
    expect(headers["x-frame-options"], what).toBe("DENY");
    expect(String(headers["content-security-policy"]), what).toMatch(/default-src '(none|self)'/);
    expect(String(headers["content-security-policy"]), what).toContain("frame-ancestors 'none'");
  };

  it("are on every route's response, JSON ones with default-src 'none' and no-store", async () => {
    for (const route of routeTable(t.app)) {
      const url = route.url.replace(/:([a-z]+)|\*/g, (m, name: string | undefined) => ids[name ?? m]!);
      const res = await t.call(route.method as never, url, route.method === "GET" || route.method === "DELETE" ? undefined : {});
      const what = `${route.method} ${url} → ${res.status}`;
      base(res.headers, what);
      if (String(res.headers["content-type"]).includes("json")) {
        expect(res.headers["content-security-policy"], what).toBe("default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
        expect(res.headers["cache-control"], what).toBe("no-store");
      }
    }
  });

  it("are on errors too: 401, 404, 400, 415, 422 and framework errors", async () => {
    const cases: [string, string, unknown, Record<string, string>][] = [
      ["GET", "/api/v1/applications", undefined, { authorization: "" }],
      ["GET", "/nope", undefined, {}],
      ["GET", "/api/v1/applications/%zz", undefined, {}],
      ["POST", "/api/v1/applications", "{", { "content-type": "application/json" }],
      ["POST", "/api/v1/applications", "x", { "content-type": "text/plain" }],
      ["POST", "/api/v1/applications", {}, {}],
    ];
    for (const [method, url, body, headers] of cases) {
      const res = await t.call(method as never, url, body, headers);
      expect(res.status).toBeGreaterThanOrEqual(400);
      base(res.headers, `${method} ${url}`);
      expect(res.headers["cache-control"]).toBe("no-store");
    }
  });

  it("leave a page's own CSP and caching alone (dashboard, portal, docs)", async () => {
    const dashboard = await t.app.inject({ method: "GET", url: "/" });
    expect(dashboard.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(dashboard.headers["cache-control"]).toBe("no-cache");
    const portal = await t.app.inject({ method: "GET", url: "/portal" });
    expect(portal.headers["content-security-policy"]).toContain("connect-src 'self'");
    const docs = await t.app.inject({ method: "GET", url: "/docs" });
    expect(docs.headers["content-security-policy"]).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
  });
});

describe("log redaction", () => {
  it("never writes keys, tokens, secrets or credentials, even at trace level", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const t = await openApi({}, {}, { logger: createLogger("trace", sink) });
    const secrets = [ADMIN_KEY];
    const app = (await t.call("POST", "/api/v1/applications", { name: "r" })).body.id;
    const adminKey = (await t.call("POST", "/api/v1/admin-keys", { name: "k" })).body.key;
    const portal = (await t.call("POST", `/api/v1/applications/${app}/portal-token`)).body.token;
    const secret = "whsec_MfKQ9r5ep2vjK0bqtF2v0zq4N6BqYc3yJ0u6xq1m8pI=";
    const endpoint = await t.call("POST", `/api/v1/applications/${app}/endpoints`, {
      url: "https://example.com/",
      secret,
      authentication: { type: "oauth2", tokenUrl: "https://auth.example.com/token", clientId: "id", clientSecret: "client-secret-value-123" },
    });
    await t.call("PATCH", `/api/v1/applications/${app}/endpoints/${endpoint.body.id}`, { authentication: { type: "basic", username: "u", password: "basic-password-value-123" } });
    const rotated = (await t.call("POST", `/api/v1/applications/${app}/endpoints/${endpoint.body.id}/secret/rotate`)).body.secret;
    await t.call("GET", `/api/v1/applications/${app}/endpoints/${endpoint.body.id}/secret`, undefined, { authorization: `Bearer ${portal}` });
    await t.call("GET", "/api/v1/applications", undefined, { authorization: `Bearer ${adminKey}` });
    await t.call("GET", "/api/v1/applications", undefined, { authorization: "Bearer wrong-key-wrong-key-123", cookie: "session=cookie-value-123" });
    await t.call("POST", `/api/v1/applications/${app}/messages`, { eventType: "a.b", payload: {} }, { "idempotency-key": "idem-key-value-123" });
    // Whatever code logs a request's headers or a credential-bearing object by mistake, the redaction list catches it.
    t.app.log.info({ req: { headers: { authorization: `Bearer ${ADMIN_KEY}` } }, secret, token: portal, apiKey: adminKey, key: adminKey }, "by mistake");
    t.app.log.info({ endpoint: { secret: rotated, authentication: { password: "basic-password-value-123" } } }, "by mistake too");
    // An unexpected error is logged with its stack, and still without the key.
    const original = t.store.listApplications.bind(t.store);
    t.store.listApplications = () => Promise.reject(new Error("boom"));
    expect((await t.call("GET", "/api/v1/applications")).status).toBe(500);
    t.store.listApplications = original;
    await t.close();

    secrets.push(adminKey, portal, secret, rotated, "client-secret-value-123", "basic-password-value-123", "wrong-key-wrong-key-123", "cookie-value-123", "idem-key-value-123");
    const log = lines.join("");
    expect(log).toContain("incoming request");
    expect(log).toContain("boom");
    expect(log).toContain("[redacted]");
    for (const s of secrets) expect(log, s).not.toContain(s);
  });
});
