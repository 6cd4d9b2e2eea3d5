import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { buildApi } from "../../src/api/server.js";
import { resolveConfig } from "../../src/config/config.js";
import { newId } from "../../src/core/ids.js";
import { GroupCommitPublisher } from "../../src/publish/publisher.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { PublishOptions, PublishRequest, Store } from "../../src/store/store.js";
import { sleep } from "../helpers/herald.js";

/**
 * Admission control: while the database is slower than the publishes coming
 * in, what waits for a write is bounded; a publish over the bound is refused
 * at once (503 `overloaded`, `Retry-After: 1`), and what was admitted is
 * still written and answered.
 */
const KEY = "admission-admin-key-0123456789";
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real SQLite store whose writes of publishes wait until `open()`: a database that has stalled. */
async function stalledStore() {
  const dir = mkdtempSync(join(tmpdir(), "herald-admission-"));
  const store = openSqliteStore(join(dir, "herald.db"));
  await store.migrate();
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }), () => store.close());
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const stalled = Object.create(store) as Store;
  stalled.publish = async (requests: readonly PublishRequest[], options: PublishOptions) => {
    await gate;
    return store.publish(requests, options);
  };
  return { store: stalled, open };
}

describe("admission control of publishes", () => {
  it("refuses what is over the bound with 503 overloaded and Retry-After, and answers what it admitted", async () => {
    const { store, open } = await stalledStore();
    const publisher = new GroupCommitPublisher(store, { maxWaiting: { messages: 3 } });
    const app = await buildApi({ store, config: resolveConfig({ HERALD_API_KEY: KEY, HERALD_API_RATE_LIMIT: "0" }), publisher, logger: pino({ level: "silent" }), wake: () => {} });
    cleanups.push(() => publisher.close(), () => app.close());
    const headers = { authorization: `Bearer ${KEY}` };
    const created = await app.inject({ method: "POST", url: "/api/v1/applications", headers, payload: { name: "busy", uid: "busy" } });
    expect(created.statusCode).toBe(201);

    const publish = (n: number) => app.inject({ method: "POST", url: "/api/v1/applications/busy/messages", headers, payload: { eventType: "e.x", payload: { n } } });
    // The first is taken by a write (which stalls); three more wait for the next one, up to the bound.
    const admitted = [];
    for (let n = 0; n < 4; n++) {
      admitted.push(publish(n));
      await sleep(20);
    }
    const refused = await publish(4);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(refused.json()).toMatchObject({ code: "overloaded", status: 503 });
    expect(refused.json().detail).toMatch(/^3 messages are already waiting to be written/);
    const batch = await app.inject({
      method: "POST",
      url: "/api/v1/applications/busy/messages/batch",
      headers,
      payload: { messages: [{ eventType: "e.x", payload: {} }] },
    });
    expect(batch.statusCode).toBe(503);

    open();
    const answers = await Promise.all(admitted);
    expect(answers.map((a) => a.statusCode)).toEqual([202, 202, 202, 202]);
    // Nothing waits any more: publishes are admitted again.
    expect((await publish(5)).statusCode).toBe(202);
  });

  it("bounds the payload bytes that wait too, and always admits one publish when nothing waits", async () => {
    const { store, open } = await stalledStore();
    const publisher = new GroupCommitPublisher(store, { maxWaiting: { bytes: 100 } });
    cleanups.push(() => publisher.close());
    const now = Date.now();
    const application = await store.createApplication({ id: newId("app"), uid: null, name: "a", metadata: {}, createdAt: now, updatedAt: now });
    const input = (size: number) => ({ appId: application.id, eventType: "e", payload: JSON.stringify("x".repeat(size)), channels: null, eventId: null });
    const first = publisher.publish(input(10)); // taken by the (stalled) write
    await sleep(20);
    const second = publisher.publish(input(500)); // larger than the bound, but nothing waits: admitted
    await sleep(20);
    await expect(publisher.publish(input(10))).rejects.toMatchObject({ code: "overloaded" });
    open();
    // Both admitted publishes are written and answered.
    expect((await first).created).toBe(true);
    expect((await second).created).toBe(true);
  });
});
