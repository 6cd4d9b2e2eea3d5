import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { portalAssets } from "../../src/api/portal/assets.js";
import { openApi, recordAttempts, type TestApi } from "./helpers.js";

/**
 * The portal page's server side: its CSP per application (`frame-ancestors`
 * and the logo's origin from `portal` on the application), the settings'
 * validation, who may change them, the attempt-log filters the portal uses,
 * and the portal's files.
 */

let t: TestApi;
beforeAll(async () => {
  t = await openApi();
});
afterAll(() => t.close());

const page = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: "GET", url, headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const csp = (headers: Record<string, unknown>) => String(headers["content-security-policy"]);

describe("the portal page's CSP", () => {
  it("refuses framing without ?app=, for an unknown application, and for one without an allow-list", async () => {
    const plain = (await t.call("POST", "/api/v1/applications", { name: "Plain" })).body;
    for (const url of ["/portal", "/portal?app=app_01ARZ3NDEKTSV4RRFFQ69G5FAV", `/portal?app=${plain.id}`, `/portal?app=${"x".repeat(300)}`]) {
      const res = await page(url);
      expect(res.statusCode, url).toBe(200);
      expect(csp(res.headers), url).toContain("frame-ancestors 'none'");
      expect(csp(res.headers), url).toContain("img-src 'self';");
      expect(res.headers["x-frame-options"], url).toBe("DENY");
    }
  });

  it("allows framing by exactly the application's origins, drops X-Frame-Options, and lets its logo load", async () => {
    const portal = { frameAncestors: ["https://app.example.com", "https://*.example.org:8443"], logoUrl: "https://cdn.example.net/logo.svg" };
    const app = (await t.call("POST", "/api/v1/applications", { name: "Framed", uid: "framed", portal })).body;
    expect(app.portal).toEqual(portal);
    for (const ref of [app.id, "framed"]) {
      const res = await page(`/portal?app=${ref}`);
      expect(csp(res.headers)).toContain("frame-ancestors https://app.example.com https://*.example.org:8443");
      expect(csp(res.headers)).toContain("img-src 'self' https://cdn.example.net;");
      expect(csp(res.headers)).toContain("script-src 'self'");
      expect(csp(res.headers)).not.toContain("unsafe-inline");
      expect(res.headers["x-frame-options"]).toBeUndefined();
      // A 304 carries the policy too: a changed allow-list applies at the next load.
      const again = await page(`/portal?app=${ref}`, { "if-none-match": String(res.headers.etag) });
      expect(again.statusCode).toBe(304);
      expect(csp(again.headers)).toContain("frame-ancestors https://app.example.com");
    }
    // Resetting the settings takes framing away at once.
    expect((await t.call("PATCH", `/api/v1/applications/${app.id}`, { portal: null })).body.portal).toBeNull();
    const after = await page(`/portal?app=${app.id}`);
    expect(csp(after.headers)).toContain("frame-ancestors 'none'");
    expect(after.headers["x-frame-options"]).toBe("DENY");
  });

  it("allows data: images only for an inline logo", async () => {
    const logoUrl = "data:image/png;base64,iVBORw0KGgo=";
    const app = (await t.call("POST", "/api/v1/applications", { name: "Inline", portal: { logoUrl } })).body;
    expect(csp((await page(`/portal?app=${app.id}`)).headers)).toContain("img-src 'self' data:;");
  });

  it("serves the portal's modules, never the page under another name, and 404s the rest", async () => {
    expect((await page("/portal/views/endpoint.js")).statusCode).toBe(200);
    expect((await page("/portal/views/endpoint.js")).headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect((await page("/portal/index.html")).statusCode).toBe(404);
    expect((await page("/portal/../../package.json")).statusCode).toBe(404);
    expect((await page("/portal/nope.js")).statusCode).toBe(404);
  });
});

describe("portal settings on the application", () => {
  it("are refused when they could carry anything but their value (422 naming the field)", async () => {
    const bad: [string, unknown][] = [
      ["frameAncestors/0", { frameAncestors: ["https://a.example.com; script-src *"] }],
      ["frameAncestors/0", { frameAncestors: ["*"] }],
      ["frameAncestors/0", { frameAncestors: ["'self'"] }],
      ["frameAncestors/0", { frameAncestors: ["javascript://x"] }],
      ["frameAncestors", { frameAncestors: Array.from({ length: 21 }, (_, i) => `https://a${i}.example.com`) }],
      ["accentColor", { accentColor: "red;background:url(https://evil)" }],
      ["accentColorDark", { accentColorDark: "#12345" }],
      ["logoUrl", { logoUrl: "javascript:alert(1)" }],
      ["logoUrl", { logoUrl: "http://insecure.example.com/logo.png" }],
      ["logoUrl", { logoUrl: "https://a.example.com/x y.png" }],
      ["logoUrl", { logoUrl: "data:text/html;base64,PHNjcmlwdD4=" }],
      ["name", { name: "" }],
      ["", { theme: "dark" }],
    ];
    for (const [path, portal] of bad) {
      const res = await t.call("POST", "/api/v1/applications", { name: "x", portal });
      expect(res.status, JSON.stringify(portal)).toBe(422);
      expect(res.body.code).toBe("validation_failed");
      expect(JSON.stringify(res.body.errors), JSON.stringify(portal)).toContain(`/portal${path ? `/${path}` : ""}`);
    }
  });

  it("are changed as a whole by PATCH, kept when PATCH leaves them out, and `{}` means none", async () => {
    const app = (await t.call("POST", "/api/v1/applications", { name: "Themed", portal: { name: "Acme", accentColor: "#0a7d4b" } })).body;
    const renamed = await t.call("PATCH", `/api/v1/applications/${app.id}`, { name: "Themed 2" });
    expect(renamed.body.portal).toEqual({ name: "Acme", accentColor: "#0a7d4b" });
    const replaced = await t.call("PATCH", `/api/v1/applications/${app.id}`, { portal: { accentColorDark: "#99ffcc" } });
    expect(replaced.body.portal).toEqual({ accentColorDark: "#99ffcc" });
    expect((await t.call("GET", `/api/v1/applications/${app.id}`)).body.portal).toEqual({ accentColorDark: "#99ffcc" });
    expect((await t.call("PATCH", `/api/v1/applications/${app.id}`, { portal: {} })).body.portal).toBeNull();
  });

  it("are read by the application's portal token (to theme the page) but changed only with an admin key", async () => {
    const app = (await t.call("POST", "/api/v1/applications", { name: "Tenant", portal: { frameAncestors: ["https://tenant.example.com"] } })).body;
    const token = (await t.call("POST", `/api/v1/applications/${app.id}/portal-token`)).body.token;
    expect((await t.call("GET", `/api/v1/applications/${app.id}`, undefined, bearer(token))).body.portal).toEqual({ frameAncestors: ["https://tenant.example.com"] });
    const widen = await t.call("PATCH", `/api/v1/applications/${app.id}`, { portal: { frameAncestors: ["https://evil.example.com"] } }, bearer(token));
    expect(widen.status).toBe(403);
    expect(csp((await page(`/portal?app=${app.id}`)).headers)).toMatch(/frame-ancestors https:\/\/tenant\.example\.com$/);
  });
});

describe("attempt-log filters (what the portal's log asks for)", () => {
  it("filter by outcome, status code, event type and time, and page within the filter", async () => {
    await t.call("POST", "/api/v1/applications", { name: "Log", uid: "log" });
    const ep = (await t.call("POST", "/api/v1/applications/log/endpoints", { url: "https://example.com/hook" })).body;
    const start = Date.now() - 1;
    for (const type of ["order.created", "order.created", "pet.adopted"]) await t.call("POST", "/api/v1/applications/log/messages", { eventType: type, payload: {} });
    expect(await recordAttempts(t.store, ep.id, { success: true })).toBe(3);
    await t.call("POST", "/api/v1/applications/log/messages", { eventType: "pet.adopted", payload: {} });
    expect(await recordAttempts(t.store, ep.id, { success: false })).toBe(1);
    const list = async (q: string) => {
      const res = await t.call("GET", `/api/v1/applications/log/endpoints/${ep.id}/attempts?${q}`);
      expect(res.status, q).toBe(200);
      return res.body as { data: { success: boolean; statusCode: number; messageId: string }[]; nextCursor: string | null };
    };
    expect((await list("")).data).toHaveLength(4);
    expect((await list("status=failed")).data.map((a) => a.statusCode)).toEqual([500]);
    expect((await list("status=succeeded")).data).toHaveLength(3);
    expect((await list("statusCode=500")).data).toHaveLength(1);
    expect((await list("statusCode=404")).data).toHaveLength(0);
    expect((await list("eventType=pet.adopted")).data.map((a) => a.success)).toEqual([false, true]);
    expect((await list("eventType=pet.adopted&status=succeeded")).data).toHaveLength(1);
    expect((await list(`after=${new Date(start).toISOString()}`)).data).toHaveLength(4);
    expect((await list(`before=${new Date(start).toISOString()}`)).data).toHaveLength(0);
    const first = await list("eventType=order.created&limit=1");
    expect(first.data).toHaveLength(1);
    const second = await list(`eventType=order.created&limit=1&cursor=${first.nextCursor}`);
    expect(second.data).toHaveLength(1);
    expect(second.data[0]!.messageId).not.toBe(first.data[0]!.messageId);
    expect(second.nextCursor).toBeNull();
    for (const q of ["status=skipped", "statusCode=99", "statusCode=abc", "after=yesterday", "eventType=a%20b"]) {
      const res = await t.call("GET", `/api/v1/applications/log/endpoints/${ep.id}/attempts?${q}`);
      expect(res.status, q).toBe(422);
      expect(res.body.code).toBe("validation_failed");
    }
  });
});

describe("the portal's files", () => {
  it("import only files that are served (the portal's own and the dashboard's shared ones), and each parses", async () => {
    const assets = portalAssets();
    const scripts = [...assets.keys()].filter((k) => k.endsWith(".js"));
    expect(scripts.length).toBeGreaterThan(8);
    for (const name of scripts) {
      const source = assets.get(name)!.body.toString("utf8");
      expect(source.startsWith("// @ts-check"), name).toBe(true);
      expect(source, name).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/);
      for (const [, spec] of source.matchAll(/\bfrom\s+"([^"]+)"/g)) {
        const resolved = new URL(spec!, `http://x/portal/${name}`).pathname;
        expect((await page(resolved)).statusCode, `${name} imports ${spec}`).toBe(200);
      }
      const check = spawnSync(process.execPath, ["--check", fileURLToPath(new URL(`../../src/api/portal/static/${name}`, import.meta.url))], { encoding: "utf8" });
      expect(check.status, `${name}: ${check.stderr}`).toBe(0);
    }
    const html = assets.get("index.html")!.body.toString("utf8");
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/);
    for (const [, href] of html.matchAll(/(?:href|src)="(\/[^"]+)"/g)) expect((await page(href!)).statusCode, href).toBe(200);
  });
});
