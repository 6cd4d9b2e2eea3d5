import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { decrypt, encrypt, keyIdOf, parseKeyRing } from "../../src/security/keys.js";
import type { Endpoint, EndpointAuthentication } from "../../src/store/model.js";
import { createApp, createEndpoint, tempDir } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { verifyWebhook } from "../../src/receiver/index.js";
import { KEY_A, KEY_B, openSecurityHerald, type SecurityHerald } from "./helpers.js";

const idA = parseKeyRing(KEY_A).primary.id;
const idB = parseKeyRing(KEY_B).primary.id;

describe("HERALD_ENCRYPTION_KEY", () => {
  it("takes 32 bytes as base64, base64url or hex, comma-separated; the first encrypts", () => {
    const ring = parseKeyRing(` ${KEY_A} , ${KEY_B}`);
    expect(ring.primary.id).toBe(idA);
    expect([...ring.byId.keys()]).toEqual([idA, idB]);
    expect(parseKeyRing(Buffer.alloc(32, 0xa1).toString("base64url")).primary.id).toBe(idA);
    expect(parseKeyRing(Buffer.alloc(32, 0xa1).toString("hex")).primary.id).toBe(idA);
  });

  it.each(["", "short", Buffer.alloc(16).toString("base64"), Buffer.alloc(31).toString("hex"), "z".repeat(64), `${KEY_A},${KEY_A}`])(
    "refuses %j with one line naming the variable and the form",
    (value) => {
      expect(() => parseKeyRing(value)).toThrow(/^HERALD_ENCRYPTION_KEY: /);
    },
  );

  it("stops start-up on a bad key, before touching the database", async () => {
    await expect(openSecurityHerald({ HERALD_ENCRYPTION_KEY: "hunter2" })).rejects.toThrow(/HERALD_ENCRYPTION_KEY: key 1 is not valid; expected .* 64 hex digits or base64/);
  });
});

describe("AES-256-GCM values", () => {
  const ring = parseKeyRing(`${KEY_A},${KEY_B}`);

  it("round-trips, names its key, and never repeats a ciphertext", () => {
    const a = encrypt(ring, "whsec_secret", "ep_1");
    const b = encrypt(ring, "whsec_secret", "ep_1");
    expect(a).toMatch(new RegExp(`^enc:v1:${idA}:[A-Za-z0-9_-]+$`));
    expect(a).not.toBe(b);
    expect(keyIdOf(a)).toBe(idA);
    expect(decrypt(ring, a, "ep_1")).toBe("whsec_secret");
    expect(decrypt(parseKeyRing(`${KEY_B},${KEY_A}`), a, "ep_1")).toBe("whsec_secret");
  });

  it("passes plain text through (rows written before a key was set)", () => {
    expect(decrypt(ring, "whsec_plain", "ep_1")).toBe("whsec_plain");
    expect(keyIdOf("whsec_plain")).toBeNull();
  });

  it("refuses a value moved to another row, altered, or under a key that is not listed", () => {
    const value = encrypt(ring, "whsec_secret", "ep_1");
    expect(() => decrypt(ring, value, "ep_2")).toThrow(/copied from another row/);
    const body = value.slice(value.lastIndexOf(":") + 1);
    const flipped = `${value.slice(0, value.lastIndexOf(":") + 1)}${body.slice(0, 20)}${body[20] === "A" ? "B" : "A"}${body.slice(21)}`;
    expect(() => decrypt(ring, flipped, "ep_1")).toThrow(/altered/);
    expect(() => decrypt(parseKeyRing(KEY_B), value, "ep_1")).toThrow(new RegExp(`encrypted with key ${idA}, which HERALD_ENCRYPTION_KEY does not list`));
  });
});

/** Every byte of the SQLite database, WAL included. */
function rawBytes(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.startsWith("herald.db"))
    .map((f) => readFileSync(join(dir, f)).toString("latin1"))
    .join("\n");
}

type RawEndpoint = { id: string; secret: string; previous_secret: string | null; previous_secret_expires_at: number | null; authentication: string | null };
function rawRows(dbPath: string): RawEndpoint[] {
  const db = new Database(dbPath);
  try {
    return db.prepare("SELECT id, secret, previous_secret, previous_secret_expires_at, authentication FROM endpoints ORDER BY id").all() as RawEndpoint[];
  } finally {
    db.close();
  }
}

const CREDENTIALS: EndpointAuthentication[] = [
  { type: "bearer", token: "bearer-token-plaintext-1" },
  { type: "basic", username: "alice", password: "basic-password-plaintext-2" },
  { type: "header", name: "x-api-key", value: "header-value-plaintext-3" },
  { type: "oauth2", tokenUrl: "https://auth.herald.test/token", clientId: "client-id", clientSecret: "client-secret-plaintext-4", scope: "hooks" },
];
const PLAINTEXTS = ["bearer-token-plaintext-1", "basic-password-plaintext-2", "header-value-plaintext-3", "client-secret-plaintext-4"];

describe("endpoints encrypted at rest", () => {
  let h: SecurityHerald | undefined;
  let receiver: Receiver | undefined;
  const dirs: (() => void)[] = [];
  afterEach(async () => {
    await h?.close();
    await receiver?.close();
    for (const d of dirs.splice(0)) d();
    h = undefined;
    receiver = undefined;
  });

  async function withEndpoints(settings: Record<string, string>, dir?: string): Promise<Endpoint[]> {
    h = await openSecurityHerald(settings, dir ? { dir } : {});
    const app = await createApp(h.herald);
    const eps: Endpoint[] = [];
    for (const authentication of CREDENTIALS) eps.push(await createEndpoint(h.herald, app, "https://hooks.herald.test/", { authentication }));
    return eps;
  }

  it("writes no secret and no credential in plain text anywhere in the SQLite files, and reads them back whole", async () => {
    const eps = await withEndpoints({ HERALD_ENCRYPTION_KEY: KEY_A });
    const rotated = await h!.herald.store.rotateEndpointSecret(eps[0]!.appId, eps[0]!.id, "whsec_" + Buffer.alloc(32, 7).toString("base64"), Date.now() + 3_600_000, Date.now());
    const patched = await h!.herald.store.updateEndpoint(eps[1]!.appId, eps[1]!.id, { authentication: { type: "bearer", token: "patched-token-plaintext-5" } }, Date.now());
    expect(rotated!.previousSecret).toBe(eps[0]!.secret);
    expect(patched!.authentication).toEqual({ type: "bearer", token: "patched-token-plaintext-5" });
    const listed = await h!.herald.store.listEndpoints(eps[0]!.appId, { limit: 10 });
    expect(listed.data.find((e) => e.id === eps[2]!.id)).toEqual(eps[2]);
    expect(await h!.herald.store.getEndpoint(eps[3]!.appId, eps[3]!.id)).toEqual(eps[3]);
    const secrets = [...eps.map((e) => e.secret), rotated!.secret, ...PLAINTEXTS, "patched-token-plaintext-5"];
    await h!.stop();

    const bytes = rawBytes(h!.dir);
    expect(bytes).toContain("enc:v1:");
    for (const s of secrets) expect(bytes, s).not.toContain(s);
    for (const s of secrets) expect(bytes).not.toContain(Buffer.from(s).toString("base64").slice(0, 16));
    for (const row of rawRows(h!.dbPath)) {
      expect(keyIdOf(row.secret)).toBe(idA);
      if (row.previous_secret) expect(keyIdOf(row.previous_secret)).toBe(idA);
    }
    // Names, ids and URLs stay readable.
    expect(bytes).toContain("client-id");
    expect(bytes).toContain("x-api-key");
  });

  it("delivers with the decrypted secret and credentials (claims and publish hand-off alike)", async () => {
    receiver = await startReceiver();
    h = await openSecurityHerald({ HERALD_ENCRYPTION_KEY: KEY_A, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" });
    const app = await createApp(h.herald);
    const ep = await createEndpoint(h.herald, app, `${receiver.url}/hook`, { authentication: CREDENTIALS[1]! });
    await h.herald.publish({ app: app.id, eventType: "before.start", payload: { n: 0 } }); // claimed from the store later
    await h.herald.start();
    await h.herald.publish({ app: app.id, eventType: "after.start", payload: { n: 1 } }); // handed over in memory
    const got = await receiver.waitFor(2);
    for (const r of got) {
      expect(r.headers.authorization).toBe(`Basic ${Buffer.from("alice:basic-password-plaintext-2").toString("base64")}`);
      expect(() => verifyWebhook(r.body, r.headers as Record<string, string>, ep.secret)).not.toThrow();
    }
  });

  const BROKER_URLS = [
    "amqp://orders:amqp-pass-plaintext-6@broker.herald.test/prod?exchange=events",
    "nats://nats-token-plaintext-7@nats.herald.test/orders",
    "redis://:redis%40pass-plaintext-8@redis.herald.test/0?stream=s",
  ];
  const BROKER_SECRETS = ["amqp-pass-plaintext-6", "nats-token-plaintext-7", "pass-plaintext-8"];

  it("seals a broker URL's password or NATS token in place, and hands the URL out whole, to the API and to delivery", async () => {
    h = await openSecurityHerald({ HERALD_ENCRYPTION_KEY: KEY_A });
    const app = await createApp(h.herald);
    const eps: Endpoint[] = [];
    for (const url of BROKER_URLS) eps.push(await createEndpoint(h.herald, app, url));
    expect(eps.map((e) => e.url)).toEqual(BROKER_URLS);
    expect((await h.herald.store.listEndpoints(app.id, { limit: 10 })).data.map((e) => e.url).sort()).toEqual([...BROKER_URLS].sort());
    const moved = "amqp://orders:amqp-pass-plaintext-9@broker.herald.test/prod?exchange=events";
    expect((await h.herald.store.updateEndpoint(app.id, eps[0]!.id, { url: moved }, Date.now()))!.url).toBe(moved);
    // Delivery gets the URL whole: a claimed job's endpoint, as the broker destination reads it.
    await h.herald.publish({ app: app.id, eventType: "order.created", payload: { n: 1 } });
    const now = Date.now();
    const jobs = await h.herald.store.claimDue({ owner: "w", now, leaseUntil: now + 60_000, limit: 10 });
    expect(jobs.map((j) => j.endpoint.url).sort()).toEqual([moved, ...BROKER_URLS.slice(1)].sort());
    await h.stop();

    const bytes = rawBytes(h.dir);
    for (const secret of [...BROKER_SECRETS, "amqp-pass-plaintext-9"]) expect(bytes, secret).not.toContain(secret);
    const db = new Database(h.dbPath);
    try {
      const urls = (db.prepare("SELECT url FROM endpoints ORDER BY id").all() as { url: string }[]).map((r) => r.url);
      // The rest of the URL stays readable; the credential is a ciphertext of this key, bound to the endpoint.
      expect(urls[0]).toMatch(/^amqp:\/\/orders:enc%3Av1%3A[0-9a-f]{8}%3A[\w-]+@broker\.herald\.test\/prod\?exchange=events$/);
      expect(urls[1]).toMatch(/^nats:\/\/enc%3Av1%3A[0-9a-f]{8}%3A[\w-]+@nats\.herald\.test\/orders$/);
      expect(urls[2]).toMatch(/^redis:\/\/:enc%3Av1%3A/);
    } finally {
      db.close();
    }
  });

  it("seals the broker URLs of rows written before the key was set, at the next start", async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    h = await openSecurityHerald({}, { dir });
    const app = await createApp(h.herald);
    const eps: Endpoint[] = [];
    for (const url of BROKER_URLS) eps.push(await createEndpoint(h.herald, app, url));
    await h.stop();
    expect(rawBytes(dir)).toContain("amqp-pass-plaintext-6");

    h = await openSecurityHerald({ HERALD_ENCRYPTION_KEY: KEY_A }, { dir });
    for (const [i, ep] of eps.entries()) expect((await h.herald.store.getEndpoint(app.id, ep.id))!.url).toBe(BROKER_URLS[i]);
    await h.stop();
    const bytes = rawBytes(dir);
    for (const secret of BROKER_SECRETS) expect(bytes, secret).not.toContain(secret);
  });

  it("encrypts rows written before the key was set, at the next start", async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const eps = await withEndpoints({}, dir);
    await h!.stop();
    expect(rawRows(h!.dbPath).map((r) => keyIdOf(r.secret))).toEqual([null, null, null, null]);

    h = await openSecurityHerald({ HERALD_ENCRYPTION_KEY: KEY_A }, { dir });
    for (const ep of eps) {
      // Same endpoint, updatedAt kept; `previous` now holds an expired copy of the secret (see reencryptEndpoints).
      const now = await h.herald.store.getEndpoint(ep.appId, ep.id);
      expect({ ...now, previousSecret: null, previousSecretExpiresAt: null }).toEqual(ep);
      expect(now!.previousSecretExpiresAt! <= Date.now()).toBe(true);
    }
    await h.stop();
    const bytes = rawBytes(dir);
    for (const s of [...eps.map((e) => e.secret), ...PLAINTEXTS]) expect(bytes, s).not.toContain(s);
  });

  it("rotates keys: a new key first re-encrypts everything at start; the old key can then go; a missing key stops start-up", async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const eps = await withEndpoints({ HERALD_ENCRYPTION_KEY: KEY_A }, dir);
    await h!.stop();

    h = await openSecurityHerald({ HERALD_ENCRYPTION_KEY: `${KEY_B},${KEY_A}` }, { dir });
    await h.stop();
    for (const row of rawRows(h.dbPath)) {
      expect(keyIdOf(row.secret)).toBe(idB);
      expect(keyIdOf(row.previous_secret!)).toBe(idB); // an expired copy of the secret, under the new key
      expect(row.previous_secret_expires_at! <= Date.now()).toBe(true);
      expect(row.authentication).toContain(`enc:v1:${idB}:`);
      expect(row.authentication).not.toContain(`enc:v1:${idA}:`);
    }

    h = await openSecurityHerald({ HERALD_ENCRYPTION_KEY: KEY_B }, { dir });
    for (const ep of eps) {
      const now = await h.herald.store.getEndpoint(ep.appId, ep.id);
      expect({ ...now, previousSecret: null, previousSecretExpiresAt: null }).toEqual(ep);
    }
    await h.stop();

    await expect(openSecurityHerald({ HERALD_ENCRYPTION_KEY: KEY_A }, { dir })).rejects.toThrow(
      new RegExp(`encrypted with key ${idB}, which HERALD_ENCRYPTION_KEY does not list`),
    );
  });

  it("leaves a secret in its rotation overlap under the old key until the overlap ends", async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    const [ep] = await withEndpoints({ HERALD_ENCRYPTION_KEY: KEY_A }, dir);
    const rotated = await h!.herald.store.rotateEndpointSecret(ep!.appId, ep!.id, "whsec_" + Buffer.alloc(32, 9).toString("base64"), Date.now() + 3_600_000, Date.now());
    await h!.stop();

    h = await openSecurityHerald({ HERALD_ENCRYPTION_KEY: `${KEY_B},${KEY_A}` }, { dir });
    expect(await h.herald.store.getEndpoint(ep!.appId, ep!.id)).toEqual(rotated);
    await h.stop();
    const row = rawRows(h.dbPath).find((r) => r.id === ep!.id)!;
    expect(keyIdOf(row.secret)).toBe(idA);
    expect(row.authentication).toContain(`enc:v1:${idB}:`); // what can be rewritten safely, was

    // The overlap ends (simulated): the next start finishes the job.
    const db = new Database(h.dbPath);
    db.prepare("UPDATE endpoints SET previous_secret_expires_at = ? WHERE id = ?").run(Date.now() - 1, ep!.id);
    db.close();
    h = await openSecurityHerald({ HERALD_ENCRYPTION_KEY: `${KEY_B},${KEY_A}` }, { dir });
    await h.stop();
    const after = rawRows(h.dbPath).find((r) => r.id === ep!.id)!;
    expect([keyIdOf(after.secret), keyIdOf(after.previous_secret!)]).toEqual([idB, idB]);
  });

  it("refuses to start when a ciphertext was copied from another endpoint's row", async () => {
    const { dir, cleanup } = tempDir();
    dirs.push(cleanup);
    await withEndpoints({ HERALD_ENCRYPTION_KEY: KEY_A }, dir);
    await h!.stop();
    const db = new Database(h!.dbPath);
    const [first, second] = db.prepare("SELECT id, secret FROM endpoints ORDER BY id").all() as { id: string; secret: string }[];
    db.prepare("UPDATE endpoints SET secret = ? WHERE id = ?").run(first!.secret, second!.id);
    db.close();
    await expect(openSecurityHerald({ HERALD_ENCRYPTION_KEY: KEY_A }, { dir })).rejects.toThrow(/copied from another row/);
  });
});
