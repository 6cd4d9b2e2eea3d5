import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../src/log.js";
import { openSecurityHerald, type SecurityHerald } from "../../security/helpers.js";
import { attemptsOf, brokerAvailable, closedPort } from "../../helpers/brokers.js";

/**
 * A broker URL's password reaches no log line, no attempt and no API answer
 * about attempts: the whole run logs at `trace` while broker endpoints are
 * created over the API and delivered to (a broker that is down, a refused
 * login). Runs on SQLite.
 */
const up = await brokerAvailable("Redis");
const ADMIN_KEY = "broker-redaction-admin-key-0123";
const PASSWORD = "broker-password-never-logged-0a7";
const TOKEN = "nats-token-never-logged-44d";

let h: SecurityHerald | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.skipIf(!up)("broker credentials and the logs", () => {
  it("logs neither the password of a broker URL nor a NATS token, and the attempt log shows neither", async () => {
    let logs = "";
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    h = await openSecurityHerald(
      { HERALD_API_KEY: ADMIN_KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8", HERALD_RETRY_SCHEDULE: "0s" },
      { logger: createLogger("trace", sink) },
    );
    await h.herald.start();
    const { server } = await h.herald.listen();
    const call = (method: "GET" | "POST", url: string, payload?: object) =>
      server.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${ADMIN_KEY}` }, ...(payload ? { payload } : {}) });

    const app = (await call("POST", "/applications", { name: "broker redaction" })).json();
    const urls = [
      `redis://nobody:${PASSWORD}@127.0.0.1:6379/0?stream=herald-test-redaction`, // refused login
      `amqp://guest:${PASSWORD}@127.0.0.1:${await closedPort()}/?exchange=x`, // down
      `nats://${TOKEN}@127.0.0.1:${await closedPort()}/orders`, // down
    ];
    const ids: string[] = [];
    for (const url of urls) {
      const res = await call("POST", `/applications/${app.id}/endpoints`, { url });
      expect(res.statusCode).toBe(201);
      ids.push(res.json().id);
    }
    expect((await call("POST", `/applications/${app.id}/messages`, { eventType: "a.b", payload: { n: 1 } })).statusCode).toBe(202);
    for (const id of ids) {
      const [attempt] = await attemptsOf(h.herald, id as never, 1);
      expect(attempt).toMatchObject({ success: false });
      const listed = await call("GET", `/applications/${app.id}/endpoints/${id}/attempts`);
      expect(listed.statusCode).toBe(200);
      expect(listed.body).not.toContain(PASSWORD);
      expect(listed.body).not.toContain(TOKEN);
      expect(listed.json().data[0].url).toContain("***");
    }
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(PASSWORD);
    expect(logs).not.toContain(TOKEN);
  });
});
