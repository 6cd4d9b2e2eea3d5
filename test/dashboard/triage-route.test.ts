import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Herald } from "../../src/herald.js";
import type { Application, Endpoint } from "../../src/store/model.js";
import { createApp, createEndpoint, eventually, silentLogger, tempDir } from "../helpers/herald.js";
import { freshSchema, postgresAvailable } from "../helpers/postgres.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * `GET /api/v1/endpoints/triage` on both stores, against a real Herald and a
 * real receiver on 127.0.0.1: which endpoints are listed, what is said of
 * each, the action, paging, and who may ask.
 */

const KEY = "triage-route-admin-key-0123456789";
const pgAvailable = await postgresAvailable();

async function openOn(kind: "sqlite" | "postgres") {
  const { dir, cleanup } = tempDir();
  const schema = kind === "postgres" ? freshSchema() : null;
  const herald = await Herald.open({
    settings: {
      HERALD_DATABASE_URL: schema ? schema.url : `sqlite:${join(dir, "herald.db")}`,
      HERALD_API_KEY: KEY,
      HERALD_PORT: "0",
      HERALD_ALLOWED_NETWORKS: "127.0.0.0/8",
      // One retry an hour away: a failed delivery of an active endpoint stays pending.
      HERALD_RETRY_SCHEDULE: "0s,1h",
    },
    logger: silentLogger(),
  });
  return {
    herald,
    close: async () => {
      await herald.stop();
      await schema?.drop();
      cleanup();
    },
  };
}

for (const kind of ["sqlite", "postgres"] as const) {
  describe.skipIf(kind === "postgres" && !pgAvailable)(`GET /endpoints/triage (${kind})`, () => {
    let herald: Herald;
    let close: () => Promise<void>;
    let receiver: Receiver;
    let base: string;
    let shop: Application;
    let billing: Application;
    let ok: Endpoint;
    let failing: Endpoint;
    let gone: Endpoint;
    let manual: Endpoint;

    const call = async (method: string, path: string, body?: unknown, key = KEY) => {
      const res = await fetch(`${base}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: the test reads arbitrary JSON
      return { status: res.status, body: (await res.json().catch(() => null)) as any };
    };

    beforeAll(async () => {
      receiver = await startReceiver((req, res) => {
        if (req.path.startsWith("/fail")) {
          res.writeHead(500);
          res.end("broken");
        } else if (req.path.startsWith("/gone")) {
          res.writeHead(410);
          res.end();
        } else {
          res.end("ok");
        }
      });
      ({ herald, close } = await openOn(kind));
      await herald.start();
      base = (await herald.listen()).url;
      shop = await createApp(herald, "Shop");
      billing = await createApp(herald, "Billing");
      ok = await createEndpoint(herald, shop, `${receiver.url}/ok`);
      failing = await createEndpoint(herald, shop, `${receiver.url}/fail`);
      gone = await createEndpoint(herald, billing, `${receiver.url}/gone`);
      // A broker endpoint whose URL carries a password (it is disabled before anything is sent to it).
      manual = await createEndpoint(herald, billing, "redis://:triage-pass-0123@127.0.0.1:9/0?stream=orders");
      expect((await call("POST", `/applications/${billing.id}/endpoints/${manual.id}/disable`)).status).toBe(200);
      for (const a of [shop, billing]) {
        await herald.publish({ appId: a.id, eventType: "order.created", payload: '{"n":1}', channels: null, eventId: null });
      }
      await eventually(async () => (await herald.store.getEndpoint(billing.id, gone.id))?.status === "disabled");
      await eventually(async () => (await herald.store.listEndpointAttempts(failing.id, { limit: 5 })).data.length === 1);
      await eventually(async () => (await herald.store.listEndpointAttempts(ok.id, { limit: 5 })).data.length === 1);
      // A message published while they are disabled is kept as skipped.
      await herald.publish({ appId: billing.id, eventType: "order.created", payload: '{"n":2}', channels: null, eventId: null });
    }, 60_000);

    afterAll(async () => {
      await close?.();
      await receiver?.close();
    });

    it("lists the disabled and failing endpoints of every application, with since when, the error, the rate, the backlog and the action", async () => {
      const { status, body } = await call("GET", "/endpoints/triage");
      expect(status).toBe(200);
      expect(body.nextCursor).toBeNull();
      const byId = new Map<string, Record<string, unknown>>(body.data.map((e: { endpoint: { id: string } }) => [e.endpoint.id, e]));
      expect([...byId.keys()].sort()).toEqual([failing.id, gone.id, manual.id].sort());
      expect(byId.has(ok.id)).toBe(false);

      expect(byId.get(failing.id)).toMatchObject({
        application: { id: shop.id, name: "Shop" },
        state: "failing",
        action: "open",
        lastAttempt: { success: false, statusCode: 500, errorKind: "http_status", attemptNumber: 1 },
        window: { attempts: 1, succeeded: 0, successRate: 0 },
        backlog: { pending: 1, skipped: 0 },
        disabledAt: null,
      });
      const f = byId.get(failing.id) as { since: string; failingSince: string; lastAttempt: { timestamp: string } };
      expect(f.since).toBe(f.failingSince);
      expect(f.since).toBe(f.lastAttempt.timestamp);

      expect(byId.get(gone.id)).toMatchObject({
        endpoint: { status: "disabled", disabledReason: "gone" },
        application: { id: billing.id, name: "Billing" },
        state: "disabled",
        action: "enable",
        lastAttempt: { success: false, statusCode: 410 },
        backlog: { pending: 0, skipped: 1 },
      });
      const m = byId.get(manual.id) as { since: string | null; disabledAt: string | null; lastAttempt: unknown; window: unknown };
      expect(m).toMatchObject({ state: "disabled", action: "enable", endpoint: { disabledReason: "manual" }, lastAttempt: null, window: { successRate: null } });
      // Disabled by hand: since the operational event of that.
      expect(m.disabledAt).not.toBeNull();
      expect(m.since).toBe(m.disabledAt);
      expect(byId.get(manual.id)).toMatchObject({ endpoint: { url: "redis://:***@127.0.0.1:9/0?stream=orders" } });
      // Nothing secret is in the list.
      expect(JSON.stringify(body)).not.toContain("whsec_");
      expect(JSON.stringify(body)).not.toContain("triage-pass");
    });

    it("says recover once a disabled endpoint with skipped deliveries is enabled and still failing", async () => {
      receiver.behave((_req, res) => {
        res.writeHead(500);
        res.end();
      });
      expect((await call("POST", `/applications/${billing.id}/endpoints/${gone.id}/enable`)).status).toBe(200);
      const entry = (await call("GET", "/endpoints/triage")).body.data.find((e: { endpoint: { id: string } }) => e.endpoint.id === gone.id);
      expect(entry).toMatchObject({ state: "failing", action: "recover", backlog: { skipped: 1 } });
    });

    it("pages newest endpoint first, and refuses a cursor of another kind", async () => {
      const first = await call("GET", "/endpoints/triage?limit=2");
      expect(first.body.data).toHaveLength(2);
      expect(first.body.nextCursor).toBe(first.body.data[1].endpoint.id);
      const ids = first.body.data.map((e: { endpoint: { id: string } }) => e.endpoint.id);
      expect([...ids].sort().reverse()).toEqual(ids);
      const second = await call("GET", `/endpoints/triage?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.data).toHaveLength(1);
      expect(second.body.nextCursor).toBeNull();
      const bad = await call("GET", `/endpoints/triage?cursor=${shop.id}`);
      expect(bad.status).toBe(422);
      expect(bad.body.code).toBe("validation_failed");
      expect((await call("GET", "/endpoints/triage?limit=0")).status).toBe(422);
    });

    it("is for the admin key only: a portal token gets 403, no key 401", async () => {
      const { body: portal } = await call("POST", `/applications/${shop.id}/portal-token`, {});
      const res = await call("GET", "/endpoints/triage", undefined, portal.token);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("forbidden");
      expect((await fetch(`${base}/api/v1/endpoints/triage`)).status).toBe(401);
    });
  });
}
