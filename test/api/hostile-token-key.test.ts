import { createHmac } from "node:crypto";
import Database from "better-sqlite3";
import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { PORTAL_KEY_SETTING } from "../../src/api/portal-tokens.js";
import { tempDir } from "../helpers/herald.js";
import { KEY_A, KEY_B, openSecurityHerald, type SecurityHerald } from "../security/helpers.js";

/**
 * With `HERALD_ENCRYPTION_KEY` set, a stolen database cannot mint portal
 * tokens (issue 8 §2.6): the signing key is derived from the encryption key,
 * the database holds only its salt. A token forged from the stored value used
 * to read endpoint secrets from the running API.
 */

const ADMIN = "token-key-admin-key-0123456789";
let open: SecurityHerald[] = [];
let cleanup: (() => void) | undefined;
afterEach(async () => {
  for (const h of open) await h.close();
  open = [];
  cleanup?.();
});

interface Running {
  server: FastifyInstance;
  get(url: string, token: string): Promise<{ status: number; body: string }>;
}

async function start(dir: string, settings: Record<string, string> = {}): Promise<Running> {
  for (const h of open) await h.close();
  const h = await openSecurityHerald({ HERALD_API_KEY: ADMIN, ...settings }, { dir });
  open = [h];
  const { server } = await h.herald.listen();
  return {
    server,
    async get(url, token) {
      const res = await server.inject({ method: "GET", url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` } });
      return { status: res.statusCode, body: res.body };
    },
  };
}

/** A token signed with `key` the way Herald signs them (what someone holding the key could mint). */
function mint(key: Buffer, appId: string, expSeconds = Math.floor(Date.now() / 1000) + 3600): string {
  const body = `hpt_${Buffer.from(JSON.stringify({ app: appId, exp: expSeconds, jti: "forged" })).toString("base64url")}`;
  return `${body}.${createHmac("sha256", key).update(body).digest("base64url")}`;
}

/** What someone holding a copy of the database file reads. */
function storedKey(dir: string): Buffer {
  const db = new Database(`${dir}/herald.db`, { readonly: true });
  try {
    const row = db.prepare("SELECT value FROM settings WHERE key = ?").get(PORTAL_KEY_SETTING) as { value: string };
    return Buffer.from(row.value, "base64");
  } finally {
    db.close();
  }
}

async function setUp(api: Running): Promise<{ appId: string; secretUrl: string }> {
  const admin = { authorization: `Bearer ${ADMIN}` };
  const app = (await api.server.inject({ method: "POST", url: "/api/v1/applications", headers: admin, payload: { name: "t" } })).json();
  const ep = (await api.server.inject({ method: "POST", url: `/api/v1/applications/${app.id}/endpoints`, headers: admin, payload: { url: "https://example.com/" } })).json();
  return { appId: app.id, secretUrl: `/applications/${app.id}/endpoints/${ep.id}/secret` };
}

async function issue(api: Running, appId: string): Promise<string> {
  const res = await api.server.inject({ method: "POST", url: `/api/v1/applications/${appId}/portal-token`, headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.statusCode).toBe(201);
  return res.json().token;
}

describe("the portal-token signing key with HERALD_ENCRYPTION_KEY", () => {
  it("is not in the database: a token forged from the stored value is refused", async () => {
    const { dir, cleanup: rm } = tempDir();
    cleanup = rm;
    const api = await start(dir, { HERALD_ENCRYPTION_KEY: KEY_A });
    const { appId, secretUrl } = await setUp(api);
    const token = await issue(api, appId);
    const real = await api.get(secretUrl, token);
    expect(real.status).toBe(200);
    expect(JSON.parse(real.body).secret).toMatch(/^whsec_/);

    const forged = await api.get(secretUrl, mint(storedKey(dir), appId));
    expect(forged.status).toBe(401);
    expect(forged.body).not.toContain("whsec_");
  });

  it("replaces a key stored in plain text before encryption was on: older tokens and forgeries stop working", async () => {
    const { dir, cleanup: rm } = tempDir();
    cleanup = rm;
    const plain = await start(dir);
    const { appId, secretUrl } = await setUp(plain);
    const before = await issue(plain, appId);
    // Without encryption the stored value is the key: this is the hole encryption closes.
    expect((await plain.get(secretUrl, mint(storedKey(dir), appId))).status).toBe(200);

    const encrypted = await start(dir, { HERALD_ENCRYPTION_KEY: KEY_A });
    expect((await encrypted.get(secretUrl, before)).status).toBe(401);
    expect((await encrypted.get(secretUrl, mint(storedKey(dir), appId))).status).toBe(401);
    expect((await encrypted.get(secretUrl, await issue(encrypted, appId))).status).toBe(200);
  });

  it("follows encryption-key rotation: tokens signed under a listed older key keep working until it is removed", async () => {
    const { dir, cleanup: rm } = tempDir();
    cleanup = rm;
    const underA = await start(dir, { HERALD_ENCRYPTION_KEY: KEY_A });
    const { appId, secretUrl } = await setUp(underA);
    const tokenA = await issue(underA, appId);

    const rotating = await start(dir, { HERALD_ENCRYPTION_KEY: `${KEY_B},${KEY_A}` });
    const tokenB = await issue(rotating, appId);
    expect((await rotating.get(secretUrl, tokenA)).status).toBe(200);
    expect((await rotating.get(secretUrl, tokenB)).status).toBe(200);

    const underB = await start(dir, { HERALD_ENCRYPTION_KEY: KEY_B });
    expect((await underB.get(secretUrl, tokenA)).status).toBe(401);
    expect((await underB.get(secretUrl, tokenB)).status).toBe(200);
  });
});
