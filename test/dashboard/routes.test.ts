import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dashboardAssets } from "../../src/dashboard/assets.js";
import { openApi, recordAttempts, type TestApi } from "../api/helpers.js";
import { parsePrometheus } from "../helpers/prometheus.js";

let api: TestApi;
beforeAll(async () => {
  api = await openApi();
});
afterAll(() => api.close());

const get = (url: string, headers: Record<string, string> = {}) => api.app.inject({ method: "GET", url, headers });

function expectSecurityHeaders(headers: Record<string, unknown>) {
  const csp = String(headers["content-security-policy"]);
  expect(csp).toContain("default-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).not.toContain("unsafe-eval");
  expect(headers["x-content-type-options"]).toBe("nosniff");
  expect(headers["referrer-policy"]).toBe("no-referrer");
  expect(headers["x-frame-options"]).toBe("DENY");
}

describe("GET / (the dashboard page)", () => {
  it("is served without a key, as HTML, with the security headers", async () => {
    const res = await get("/");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expectSecurityHeaders(res.headers);
    expect(res.body).toContain('<script type="module" src="/dashboard/app.js"></script>');
    expect(res.body).toContain('<link rel="stylesheet" href="/dashboard/app.css">');
  });

  it("has no inline script, inline style or inline event handler (the CSP would block them)", async () => {
    const html = (await get("/")).body;
    for (const tag of html.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? []) expect(tag).toMatch(/^<script[^>]*\ssrc="\/dashboard\/[^"]+"[^>]*><\/script>$/);
    expect(html).not.toMatch(/<style\b/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it("answers a matching If-None-Match with 304", async () => {
    const first = await get("/");
    const etag = String(first.headers.etag);
    const again = await get("/", { "if-none-match": etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
    expectSecurityHeaders(again.headers);
  });

  it("leaves the API behind its key", async () => {
    expect((await get("/api/v1/applications")).statusCode).toBe(401);
  });
});

describe("GET /dashboard/<file>", () => {
  it.each([
    ["/dashboard/app.js", "text/javascript; charset=utf-8"],
    ["/dashboard/views/endpoint.js", "text/javascript; charset=utf-8"],
    ["/dashboard/app.css", "text/css; charset=utf-8"],
    ["/dashboard/favicon.svg", "image/svg+xml"],
  ])("%s is %s, with the security headers", async (url, type) => {
    const res = await get(url);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe(type);
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expectSecurityHeaders(res.headers);
  });

  it.each(["/dashboard/nope.js", "/dashboard/index.html", "/dashboard/../package.json", "/dashboard/%2e%2e/package.json", "/dashboard/", "/dashboard/views"])(
    "%s is a 404",
    async (url) => {
      const res = await get(url);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('"name": "herald"');
    },
  );

  it("every module's imports resolve to served files, and each parses as an ES module", async () => {
    const assets = dashboardAssets();
    const scripts = [...assets.keys()].filter((k) => k.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(5);
    for (const name of scripts) {
      const source = assets.get(name)!.body.toString("utf8");
      for (const [, spec] of source.matchAll(/\bfrom\s+"([^"]+)"/g)) {
        const resolved = new URL(spec!, `http://x/dashboard/${name}`).pathname;
        expect((await get(resolved)).statusCode, `${name} imports ${spec}`).toBe(200);
      }
      const file = fileURLToPath(new URL(`../../src/dashboard/static/${name}`, import.meta.url));
      const check = spawnSync(process.execPath, ["--check", file], { encoding: "utf8" });
      expect(check.stderr, name).toBe("");
      expect(check.status, name).toBe(0);
    }
  });

  it("never turns data into markup: no innerHTML and the like in the scripts", () => {
    for (const [name, asset] of dashboardAssets()) {
      if (!name.endsWith(".js")) continue;
      const source = asset.body.toString("utf8");
      expect(source, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
    }
  });

  it("the page reads its files from the same folder as this test inspects", () => {
    const onDisk = readFileSync(new URL("../../src/dashboard/static/index.html", import.meta.url));
    expect(dashboardAssets().get("index.html")!.body.equals(onDisk)).toBe(true);
  });
});

describe("GET /metrics", () => {
  it("is Prometheus text, without a key, with figures from the store", async () => {
    const app = (await api.call("POST", "/api/v1/applications", { name: "metrics" })).body;
    const ep = (await api.call("POST", `/api/v1/applications/${app.id}/endpoints`, { url: "https://example.com/hook" })).body;
    await api.call("POST", `/api/v1/applications/${app.id}/endpoints`, { url: "https://example.com/off", disabled: true });
    for (let i = 0; i < 3; i++) await api.call("POST", `/api/v1/applications/${app.id}/messages`, { eventType: "a.b", payload: { i } });
    expect(await recordAttempts(api.store, ep.id, { success: true })).toBe(3);
    await api.call("POST", `/api/v1/applications/${app.id}/messages`, { eventType: "a.b", payload: { i: 3 } });
    expect(await recordAttempts(api.store, ep.id, { success: false })).toBe(1);
    await api.call("POST", `/api/v1/applications/${app.id}/messages`, { eventType: "a.b", payload: { i: 4 } });

    const res = await get("/metrics");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4(;|$)/);
    const m = parsePrometheus(res.body);

    // Read from the store at scrape time: the one delivery still pending (the others were recorded done).
    expect(m.get("herald_metrics_store_up")).toBe(1);
    expect(m.get("herald_queue_depth")).toBe(1);
    expect(m.get("herald_queue_oldest_due_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(m.get("herald_uptime_seconds")).toBeGreaterThan(0);
    expect(m.get("process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(m.get("nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
    expect(m.get('herald_http_responses_total{method="POST",code="202"}')).toBe(5);
    expect([...m.keys()].some((k) => k.startsWith('herald_info{version="'))).toBe(true);
  });

  it("answers HEAD too, and counts its own earlier responses", async () => {
    expect((await api.app.inject({ method: "HEAD", url: "/metrics" })).statusCode).toBe(200);
    const m = parsePrometheus((await get("/metrics")).body);
    expect(m.get('herald_http_responses_total{method="GET",code="200"}')).toBeGreaterThanOrEqual(1);
  });
});
