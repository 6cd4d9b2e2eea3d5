import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { eventually } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";
import { KEY_A, openSecurityHerald, type SecurityHerald } from "./helpers.js";

/**
 * No secret reaches a log line (nor the attempt log): endpoint secrets, static credentials, the
 * oauth2 client secret and the access tokens it yields, the admin key. The
 * whole run logs at `trace` through Herald's own logger (with its redaction
 * list) while endpoints are created, read, rotated and delivered to,
 * including a failing token endpoint and a 401.
 */

const ADMIN_KEY = "redaction-admin-key-0123456789";
const SECRETS = {
  endpointSecret: `whsec_${Buffer.alloc(32, 0x5e).toString("base64")}`,
  bearer: "bearer-token-never-logged-1",
  password: "basic-password-never-logged-2",
  headerValue: "header-value-never-logged-3",
  clientSecret: "client-secret-never-logged-4",
  accessToken: "access-token-never-logged-5",
};

let h: SecurityHerald | undefined;
let receiver: Receiver | undefined;
afterEach(async () => {
  await h?.close();
  await receiver?.close();
});

describe("log redaction", () => {
  it("logs none of the secrets, credentials or tokens", async () => {
    let logs = "";
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    receiver = await startReceiver((r, res) => {
      res.statusCode = r.path === "/unauthorized" ? 401 : 200;
      res.end();
    });
    let tokenRequests = 0;
    const tokenServer = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        tokenRequests++;
        if (tokenRequests === 1) res.writeHead(400).end(JSON.stringify({ error: "invalid_client" }));
        else res.writeHead(200).end(JSON.stringify({ access_token: SECRETS.accessToken, expires_in: 60 }));
      });
    });
    await new Promise<void>((r) => tokenServer.listen(0, "127.0.0.1", r));
    const tokenUrl = `http://127.0.0.1:${(tokenServer.address() as AddressInfo).port}/token`;
    try {
      h = await openSecurityHerald(
        { HERALD_API_KEY: ADMIN_KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8", HERALD_ENCRYPTION_KEY: KEY_A, HERALD_RETRY_SCHEDULE: "0s,1100ms" },
        { logger: createLogger("trace", sink) },
      );
      await h.herald.start();
      const { server } = await h.herald.listen();
      const call = (method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
        server.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${ADMIN_KEY}` }, ...(payload ? { payload } : {}) });

      const app = (await call("POST", "/applications", { name: "redaction" })).json();
      const auths = [
        { type: "bearer", token: SECRETS.bearer },
        { type: "basic", username: "u", password: SECRETS.password },
        { type: "header", name: "x-api-key", value: SECRETS.headerValue },
        { type: "oauth2", tokenUrl, clientId: "cid", clientSecret: SECRETS.clientSecret },
      ];
      const ids: string[] = [];
      for (const [i, authentication] of auths.entries()) {
        const res = await call("POST", `/applications/${app.id}/endpoints`, {
          url: `${receiver.url}/${i === 3 ? "unauthorized" : "ok"}`,
          authentication,
          ...(i === 0 ? { secret: SECRETS.endpointSecret } : {}),
        });
        expect(res.statusCode, res.body).toBe(201);
        ids.push(res.json().id);
        const read = await call("GET", `/applications/${app.id}/endpoints/${res.json().id}`);
        expect(read.body).not.toContain(Object.values(authentication).at(-1));
      }
      await call("POST", `/applications/${app.id}/endpoints/${ids[0]}/secret/rotate`);
      await call("PATCH", `/applications/${app.id}/endpoints/${ids[1]}`, { authentication: { type: "bearer", token: SECRETS.bearer } });
      await call("POST", `/applications/${app.id}/messages`, { eventType: "order.created", payload: { id: 1 } });
      // bearer, basic, header: delivered; oauth2: token refused once, then the 401 endpoint on the retry.
      await eventually(() => receiver!.received.length >= 4, 10_000);
      expect(receiver.received.find((r) => r.path === "/unauthorized")!.headers.authorization).toBe(`Bearer ${SECRETS.accessToken}`);
      // The attempt log (shown by the API and the dashboard) holds none either.
      for (const id of ids) logs += JSON.stringify((await call("GET", `/applications/${app.id}/endpoints/${id}/attempts`)).json());
      expect(logs).toContain("invalid_client");
      await h.close();
      h = undefined;
    } finally {
      tokenServer.closeAllConnections();
      await new Promise((r) => tokenServer.close(r));
    }

    expect(logs.length).toBeGreaterThan(1000); // it did log, at length
    for (const [name, value] of Object.entries({ ...SECRETS, adminKey: ADMIN_KEY })) {
      expect(logs.includes(value), `${name} appears in the logs`).toBe(false);
      expect(logs.includes(Buffer.from(value).toString("base64")), `${name} (base64) appears in the logs`).toBe(false);
    }
    expect(logs).not.toContain(Buffer.from(`u:${SECRETS.password}`).toString("base64"));
  });
});
