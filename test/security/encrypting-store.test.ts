import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";
import { parseKeyRing } from "../../src/security/keys.js";
import { encryptingStore } from "../../src/security/encrypting-store.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/herald.js";
import { freshSchema, postgresAvailable } from "../helpers/postgres.js";
import { describeStore } from "../store/conformance.js";
import type { EndpointTestStore } from "../store/endpoint-contract.js";
import { postgresRawAccess, sqliteRawAccess } from "../store/raw-access.js";
import { KEY_A } from "./helpers.js";

/**
 * The encrypting decorator is invisible: the whole Store conformance suite
 * passes through it, on SQLite and on PostgreSQL. And on PostgreSQL too, what
 * lands in the table is ciphertext.
 */

const ring = parseKeyRing(KEY_A);
const available = await postgresAvailable();

describeStore("sqlite, encrypted", async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, "herald.db");
  const store = encryptingStore(openSqliteStore(path), ring);
  const others: Store[] = [];
  const t: EndpointTestStore = {
    store,
    async reopen() {
      const other = encryptingStore(openSqliteStore(path), ring);
      others.push(other);
      return other;
    },
    raw: sqliteRawAccess(path),
    async close() {
      for (const o of others) await o.close();
      await store.close();
      cleanup();
    },
  };
  return t;
});

describeStore(
  "postgres, encrypted",
  async () => {
    const schema = freshSchema();
    const store = encryptingStore(openPostgresStore(schema.url), ring);
    const others: Store[] = [];
    const t: EndpointTestStore = {
      store,
      async reopen() {
        const other = encryptingStore(openPostgresStore(schema.url), ring);
        others.push(other);
        return other;
      },
      raw: postgresRawAccess(schema),
      async close() {
        for (const o of others) await o.close();
        await store.close();
        await schema.drop();
      },
    };
    return t;
  },
  { skip: !available, concurrentWriters: true },
);

describe.skipIf(!available)("encryption at rest on PostgreSQL", () => {
  it("stores ciphertext and reads plain text back", async () => {
    const schema = freshSchema();
    const store = encryptingStore(openPostgresStore(schema.url), ring);
    try {
      await store.migrate();
      const now = Date.now();
      const app = await store.createApplication({ id: newId("app"), uid: null, name: "pg", metadata: {}, createdAt: now, updatedAt: now });
      const secret = `whsec_${Buffer.alloc(32, 0x42).toString("base64")}`;
      const ep = await store.createEndpoint({
        id: newId("ep"),
        appId: app.id,
        url: "https://hooks.herald.test/",
        description: "",
        events: null,
        channels: null,
        filter: null,
        ordering: "none",
        transformation: null,
        status: "active",
        disabledReason: null,
        secret,
        headers: {},
        authentication: { type: "oauth2", tokenUrl: "https://auth.herald.test/token", clientId: "cid", clientSecret: "pg-client-secret-1" },
        timeoutMs: null,
        rateLimit: null,
        metadata: {},
        createdAt: now,
      });
      expect(ep.secret).toBe(secret);
      const [raw] = await schema.query<{ secret: string; authentication: unknown }>("SELECT secret, authentication FROM endpoints");
      expect(raw!.secret).toMatch(/^enc:v1:/);
      expect(JSON.stringify(raw!.authentication)).not.toContain("pg-client-secret-1");
      expect(JSON.stringify(raw!.authentication)).toContain("cid");
      expect((await store.getEndpoint(app.id, ep.id))!.authentication).toMatchObject({ clientSecret: "pg-client-secret-1" });
    } finally {
      await store.close();
      await schema.drop();
    }
  });
});
