import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PORTAL_KEY_SETTING, PortalTokens } from "../../src/api/portal-tokens.js";
import { routeTable } from "../../src/api/route-table.js";
import type { ApplicationId } from "../../src/core/ids.js";
import { openApi, type Reply, type TestApi } from "./helpers.js";

/**
 * Tenancy: portal tokens see only their own application (every other
 * application answers 404, admin-only routes 403), admin keys can be created,
 * listed and revoked. The foreign-token probe walks the server's own route
 * table, so a route added later is probed without being listed here.
 */

/** The routes only an admin key may call. A route flagged adminOnly but missing here (or the reverse) fails the test. */
const ADMIN_ONLY = new Set([
  "POST /api/v1/applications",
  "GET /api/v1/applications",
  "GET /api/v1/endpoints/triage",
  "PATCH /api/v1/applications/:app",
  "DELETE /api/v1/applications/:app",
  "POST /api/v1/event-types",
  "PATCH /api/v1/event-types/:name",
  "DELETE /api/v1/event-types/:name",
  "POST /api/v1/applications/:app/portal-token",
  "POST /api/v1/applications/:app/portal-token/expire-all",
  "POST /api/v1/admin-keys",
  "GET /api/v1/admin-keys",
  "DELETE /api/v1/admin-keys/:id",
]);
/** Routes outside any application that a portal token may read (their answers are filtered or public). */
const SHARED = new Set(["GET /api/v1/event-types", "GET /api/v1/event-types/:name", "GET /api/v1/operational-events"]);

let t: TestApi;
let own: { id: string; ep: string; msg: string };
let foreign: { id: string; uid: string; ep: string; msg: string };
let token: string;
let adminKeyId: string;

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

async function seedApp(name: string, uid: string) {
  const app = await t.call("POST", "/api/v1/applications", { name, uid });
  const ep = await t.call("POST", `/api/v1/applications/${uid}/endpoints`, { url: "https://example.com/hook" });
  const msg = await t.call("POST", `/api/v1/applications/${uid}/messages`, { eventType: "order.created", payload: { n: 1 } });
  return { id: app.body.id as string, uid, ep: ep.body.id as string, msg: msg.body.id as string };
}

beforeAll(async () => {
  t = await openApi();
  own = await seedApp("own", "own-app");
  foreign = await seedApp("foreign", "foreign-app");
  await t.call("POST", "/api/v1/event-types", { name: "order.created" });
  adminKeyId = (await t.call("POST", "/api/v1/admin-keys", { name: "ci" })).body.id;
  const res = await t.call("POST", `/api/v1/applications/${own.id}/portal-token`);
  expect(res.status).toBe(201);
  token = res.body.token;
});
afterAll(() => t.close());

function fill(url: string, app: string): string {
  return url
    .replace(":app", encodeURIComponent(app))
    .replace(":ep", foreign.ep)
    .replace(":msg", foreign.msg)
    .replace(":name", "order.created")
    .replace(":id", adminKeyId);
}

const apiRoutes = () => routeTable(t.app).filter((r) => r.url.startsWith("/api/v1/"));

describe("portal tokens", () => {
  it("are issued for one application, expire in 24 h by default, and come with a portal link", async () => {
    const before = Date.now();
    const res = await t.call("POST", `/api/v1/applications/${own.id}/portal-token`, undefined, { host: "herald.example:8080" });
    expect(res.status).toBe(201);
    expect(res.body.token).toMatch(/^hpt_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(res.body.url).toBe(`http://herald.example:8080/portal?app=${own.id}#token=${res.body.token}`);
    const expires = Date.parse(res.body.expiresAt);
    expect(expires).toBeGreaterThan(before + 24 * 3600_000 - 2000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);
    const short = await t.call("POST", `/api/v1/applications/own-app/portal-token`, { expiresIn: 120 });
    expect(Date.parse(short.body.expiresAt)).toBeLessThanOrEqual(Date.now() + 120_000);
    expect((await t.call("POST", `/api/v1/applications/own-app/portal-token`, { expiresIn: 10 })).status).toBe(422);
    expect((await t.call("POST", `/api/v1/applications/nope/portal-token`)).status).toBe(404);
  });

  it("use HERALD_PUBLIC_URL for the link when it is set", async () => {
    const other = await openApi({ HERALD_PUBLIC_URL: "https://hooks.example.com/herald/" });
    const app = await other.call("POST", "/api/v1/applications", { name: "a" });
    const res = await other.call("POST", `/api/v1/applications/${app.body.id}/portal-token`);
    expect(res.body.url).toBe(`https://hooks.example.com/herald/portal?app=${app.body.id}#token=${res.body.token}`);
    await other.close();
  });

  it("see and change their own application's endpoints, messages and attempts", async () => {
    const as = (method: string, url: string, body?: unknown) => t.call(method as never, url, body, bearer(token));
    expect((await as("GET", `/api/v1/applications/${own.id}`)).body.id).toBe(own.id);
    expect((await as("GET", "/api/v1/applications/own-app")).status).toBe(200);
    const list = await as("GET", "/api/v1/applications/own-app/endpoints");
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([own.ep]);
    const created = await as("POST", "/api/v1/applications/own-app/endpoints", { url: "https://example.org/x" });
    expect(created.status).toBe(201);
    expect((await as("PATCH", `/api/v1/applications/own-app/endpoints/${created.body.id}`, { description: "mine" })).status).toBe(200);
    expect((await as("POST", `/api/v1/applications/own-app/endpoints/${created.body.id}/test`)).status).toBe(202);
    expect((await as("GET", `/api/v1/applications/own-app/messages/${own.msg}/attempts`)).status).toBe(200);
    expect((await as("DELETE", `/api/v1/applications/own-app/endpoints/${created.body.id}`)).status).toBe(204);
    expect((await as("GET", "/api/v1/event-types")).status).toBe(200);
  });

  it("get 404 on every route of another application, whatever the body, by id or uid", async () => {
    const probed: string[] = [];
    for (const route of apiRoutes()) {
      if (!route.url.includes(":app") || ADMIN_ONLY.has(`${route.method} ${route.url}`)) continue;
      for (const app of [foreign.id, foreign.uid, "app_01ARZ3NDEKTSV4RRFFQ69G5FAV"]) {
        for (const body of [undefined, {}, "{not json"]) {
          const url = fill(route.url, app);
          const headers = { ...bearer(token), ...(body === undefined ? {} : { "content-type": "application/json" }) };
          const res: Reply = await t.call(route.method as never, url, body, headers);
          expect(res.status, `${route.method} ${url} ${JSON.stringify(body)}`).toBe(404);
          expect(res.body.code).toBe("not_found");
          expect(res.body.detail).toBe(`application ${JSON.stringify(app)} does not exist`);
        }
      }
      probed.push(`${route.method} ${route.url}`);
    }
    // Sanity: the table really holds the application routes.
    expect(probed).toContain("POST /api/v1/applications/:app/messages");
    expect(probed).toContain("GET /api/v1/applications/:app/endpoints/:ep/attempts");
    expect(probed.length).toBeGreaterThanOrEqual(18);
  });

  it("get 403 on every admin-only route, even for their own application", async () => {
    const flagged = apiRoutes().filter((r) => r.adminOnly).map((r) => `${r.method} ${r.url}`);
    expect(new Set(flagged)).toEqual(ADMIN_ONLY);
    for (const key of ADMIN_ONLY) {
      const [method, url] = key.split(" ") as [string, string];
      for (const app of [own.id, foreign.id]) {
        const res = await t.call(method as never, fill(url, app), method === "GET" || method === "DELETE" ? undefined : {}, bearer(token));
        expect(res.status, key).toBe(403);
        expect(res.body.code).toBe("forbidden");
      }
    }
  });

  it("reach every other route: shared reads only, each one classified here", async () => {
    for (const route of apiRoutes()) {
      const key = `${route.method} ${route.url}`;
      if (route.url.includes(":app") || ADMIN_ONLY.has(key)) continue;
      expect(SHARED.has(key), `${key} is neither application-scoped, admin-only nor a known shared read: classify it`).toBe(true);
      const res = await t.call(route.method as never, fill(route.url, own.id), undefined, bearer(token));
      expect(res.status, key).toBe(200);
    }
  });

  it("are refused when expired, tampered with, or signed by another server", async () => {
    const tokens = new PortalTokens(t.store);
    const expired = await tokens.issue(own.id as ApplicationId, Date.now() - 1000);
    const [body, sig] = token.split(".") as [string, string];
    const forged = `${body}.${sig.slice(0, -2)}${sig.endsWith("AA") ? "BB" : "AA"}`;
    const other = await openApi();
    const elsewhere = (await other.call("POST", `/api/v1/applications`, { name: "x" })).body.id;
    const alien = (await other.call("POST", `/api/v1/applications/${elsewhere}/portal-token`)).body.token;
    await other.close();
    const payload = JSON.parse(Buffer.from(body.slice(4), "base64url").toString());
    const swapped = `hpt_${Buffer.from(JSON.stringify({ ...payload, app: foreign.id })).toString("base64url")}.${sig}`;
    for (const bad of [expired, forged, alien, swapped, "hpt_", "hpt_x.y", `${token}x`]) {
      const res = await t.call("GET", `/api/v1/applications/${own.id}`, undefined, bearer(bad));
      expect(res.status, bad).toBe(401);
    }
  });

  it("keep their signing key in the settings, generated once", async () => {
    const key = await t.store.getSetting(PORTAL_KEY_SETTING);
    expect(Buffer.from(key!, "base64")).toHaveLength(32);
    await new PortalTokens(t.store).issue(own.id as ApplicationId, Date.now() + 60_000);
    expect(await t.store.getSetting(PORTAL_KEY_SETTING)).toBe(key);
  });

  it("are expired all at once per application: earlier ones refused, later ones and other applications' kept", async () => {
    const issue = async (app: string) => (await t.call("POST", `/api/v1/applications/${app}/portal-token`)).body.token as string;
    const sees = async (tok: string, app: string) => (await t.call("GET", `/api/v1/applications/${app}`, undefined, bearer(tok))).status;
    const app = (await t.call("POST", "/api/v1/applications", { name: "leaky" })).body.id as string;
    const [leaked, alsoLeaked, theirs] = [await issue(app), await issue(app), await issue(foreign.id)];
    // Another process on the same database, which has already read this application's cutoff.
    const elsewhere = new PortalTokens(t.store);
    expect(await elsewhere.verify(leaked)).toBe(app);

    expect((await t.call("POST", `/api/v1/applications/${app}/portal-token/expire-all`, undefined, bearer(token))).status).toBe(403);
    expect((await t.call("POST", `/api/v1/applications/${app}/portal-token/expire-all`)).status).toBe(204);
    expect(await sees(leaked, app)).toBe(401);
    expect(await sees(alsoLeaked, app)).toBe(401);
    expect(await sees(theirs, foreign.id)).toBe(200);
    const fresh = await issue(app);
    expect(await sees(fresh, app)).toBe(200);
    // The other process follows within a second (it trusts what it read that long).
    await new Promise((r) => setTimeout(r, 1100));
    expect(await elsewhere.verify(leaked)).toBeNull();
    expect(await elsewhere.verify(fresh)).toBe(app);
    expect((await t.call("POST", "/api/v1/applications/app_01JD9Z8V3T6Q2X6W4M0S1B7K9E/portal-token/expire-all")).status).toBe(404);
  });

  it("of a deleted application see nothing", async () => {
    const doomed = await t.call("POST", "/api/v1/applications", { name: "doomed" });
    const tok = (await t.call("POST", `/api/v1/applications/${doomed.body.id}/portal-token`)).body.token;
    await t.call("DELETE", `/api/v1/applications/${doomed.body.id}`);
    expect((await t.call("GET", `/api/v1/applications/${doomed.body.id}`, undefined, bearer(tok))).status).toBe(404);
  });
});

describe("admin keys", () => {
  it("are shown once, listed without key material, stored as SHA-256 and work as admin", async () => {
    const created = await t.call("POST", "/api/v1/admin-keys", { name: "deploy bot" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: expect.stringMatching(/^key_/), name: "deploy bot", key: expect.stringMatching(/^hk_[A-Za-z0-9_-]{43}$/) });
    const key: string = created.body.key;
    const list = await t.call("GET", "/api/v1/admin-keys");
    const listed = list.body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(listed).toEqual({ id: created.body.id, name: "deploy bot", createdAt: created.body.createdAt });
    expect(JSON.stringify(list.body)).not.toContain(key);
    const stored = await t.store.getAdminKeyByHash(createHash("sha256").update(key).digest("hex"));
    expect(stored?.id).toBe(created.body.id);
    expect((await t.call("GET", "/api/v1/applications", undefined, bearer(key))).status).toBe(200);
    expect((await t.call("POST", "/api/v1/admin-keys", { name: "made by a key" }, bearer(key))).status).toBe(201);
  });

  it("stop working the moment they are revoked; the bootstrap key keeps working", async () => {
    const created = await t.call("POST", "/api/v1/admin-keys", { name: "temp" });
    const key: string = created.body.key;
    expect((await t.call("GET", "/api/v1/applications", undefined, bearer(key))).status).toBe(200);
    expect((await t.call("DELETE", `/api/v1/admin-keys/${created.body.id}`, undefined, bearer(key))).status).toBe(204);
    expect((await t.call("GET", "/api/v1/applications", undefined, bearer(key))).status).toBe(401);
    expect((await t.call("DELETE", `/api/v1/admin-keys/${created.body.id}`)).status).toBe(404);
    expect((await t.call("DELETE", "/api/v1/admin-keys/not-a-key")).status).toBe(404);
    expect((await t.call("GET", "/api/v1/admin-keys")).status).toBe(200);
  });

  it("are refused to portal tokens, and a name is required", async () => {
    expect((await t.call("POST", "/api/v1/admin-keys", {})).status).toBe(422);
    expect((await t.call("POST", "/api/v1/admin-keys", { name: "x" }, bearer(token))).status).toBe(403);
  });
});

describe("the portal page", () => {
  it("is static HTML with its own strict CSP and no inline script", async () => {
    const res = await t.app.inject({ method: "GET", url: "/portal" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    for (const tag of res.body.match(/<script\b[^>]*>[\s\S]*?<\/script>/g) ?? []) expect(tag).toMatch(/src="\/portal\/portal\.js"/);
    expect(res.body).not.toMatch(/\son[a-z]+=/);
    expect(res.body).not.toMatch(/<style\b|\sstyle=/);
    const js = await t.app.inject({ method: "GET", url: "/portal/portal.js" });
    expect(js.statusCode).toBe(200);
    expect(js.body).not.toContain("innerHTML");
    expect((await t.app.inject({ method: "GET", url: "/portal/../server.ts" })).statusCode).toBe(404);
    expect((await t.app.inject({ method: "GET", url: "/portal/nope.js" })).statusCode).toBe(404);
  });
});
