import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HeraldError } from "../../src/core/errors.js";
import { newId } from "../../src/core/ids.js";
import { Herald } from "../../src/herald.js";
import { createEndpoint, openTestHerald, silentLogger, sleep } from "../helpers/herald.js";
import { TEST_STORE } from "../helpers/postgres.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * The transactional outbox on SQLite: the caller's change and the event commit
 * together on the store's own connection, or neither does.
 */
describe.skipIf(TEST_STORE !== "sqlite")("transactional outbox (SQLite)", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;

  beforeEach(async () => {
    ({ herald, close } = await openTestHerald());
    await herald.start();
    receiver = await startReceiver();
    const app = await herald.createApplication({ name: "Shop", uid: "shop" });
    await createEndpoint(herald, app, receiver.url);
    herald.sqliteHandle().exec("CREATE TABLE orders (id TEXT PRIMARY KEY, total TEXT NOT NULL)");
  });
  afterEach(async () => {
    await close();
    await receiver.close();
  });

  const orders = () => herald.sqliteHandle().prepare("SELECT id, total FROM orders ORDER BY id").all();
  const messages = async () => (await herald.store.listMessages((await herald.application("shop")).id, {}, { limit: 50 })).data;

  it("commits the change and its events together, then delivers them", async () => {
    const result = herald.transaction((tx) => {
      tx.db.prepare("INSERT INTO orders (id, total) VALUES (?, ?)").run("ord_1", "12.50");
      const created = tx.publish({ app: "shop", eventType: "order.created", payload: { id: "ord_1", total: "12.50" } });
      tx.publish({ app: "shop", eventType: "order.paid", payload: { id: "ord_1" }, idempotencyKey: "ord_1-paid" });
      const again = tx.publish({ app: "shop", eventType: "order.paid", payload: { id: "ord_1" }, idempotencyKey: "ord_1-paid" });
      expect(again.created).toBe(false);
      return created.message.id;
    });
    expect(result).toMatch(/^msg_/);
    expect(orders()).toEqual([{ id: "ord_1", total: "12.50" }]);
    const reqs = await receiver.waitFor(2);
    expect(reqs.map((r) => r.headers["x-webhook-event"]).sort()).toEqual(["order.created", "order.paid"]);
    expect(reqs.find((r) => r.headers["webhook-id"] === result)!.body).toBe('{"id":"ord_1","total":"12.50"}');
    await sleep(100);
    expect(receiver.received).toHaveLength(2);
  });

  it("rolls back the change and its events together: nothing stored, nothing delivered", async () => {
    expect(() =>
      herald.transaction((tx) => {
        tx.db.prepare("INSERT INTO orders (id, total) VALUES (?, ?)").run("ord_2", "1.00");
        tx.publish({ app: "shop", eventType: "order.created", payload: { id: "ord_2" } });
        throw new Error("payment service said no");
      }),
    ).toThrow("payment service said no");
    // A failing statement of the caller's, after the publish, rolls it back too.
    expect(() =>
      herald.transaction((tx) => {
        tx.publish({ app: "shop", eventType: "order.created", payload: { id: "ord_3" } });
        tx.db.prepare("INSERT INTO orders (id, total) VALUES (?, ?)").run("ord_3", null);
      }),
    ).toThrow(/NOT NULL/);
    expect(orders()).toEqual([]);
    expect(await messages()).toEqual([]);
    await sleep(300);
    expect(receiver.received).toEqual([]);
  });

  it("refuses an asynchronous function, an unknown application and a payload too large, storing nothing", async () => {
    expect(() =>
      herald.transaction(async (tx) => {
        tx.publish({ app: "shop", eventType: "order.created", payload: {} });
      }),
    ).toThrow(TypeError);
    expect(() => herald.transaction((tx) => tx.publish({ app: "nope", eventType: "a.b", payload: {} }))).toThrow(
      expect.objectContaining({ code: "not_found" }),
    );
    expect(() => herald.transaction((tx) => tx.publish({ app: "shop", eventType: "a.b", payload: "x".repeat(300_000) }))).toThrow(
      expect.objectContaining({ code: "payload_too_large" }),
    );
    expect(await messages()).toEqual([]);
  });

  it("is delivered by the worker of another process when this one only serves the API", async () => {
    const api = await openTestHerald({ HERALD_ROLE: "api" });
    const worker = await Herald.open({
      settings: { HERALD_DATABASE_URL: `sqlite:${(api.herald.config.store as { path: string }).path}`, HERALD_ROLE: "worker", HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" },
      config: { delivery: { pollIntervalMs: 50 } as never },
      logger: silentLogger(),
    });
    try {
      await worker.start();
      const app = await api.herald.createApplication({ name: "Shop", uid: "shop" });
      await createEndpoint(api.herald, app, `${receiver.url}/other`);
      const { message } = api.herald.transaction((tx) => tx.publish({ app: "shop", eventType: "a.b", payload: { n: 1 } }));
      const [req] = await receiver.waitFor(1);
      expect(req!.headers["webhook-id"]).toBe(message.id);
      await expect(api.herald.publishWith({ query: async () => ({ rows: [], rowCount: 0 }) }, { app: "shop", eventType: "a.b", payload: {} })).rejects.toMatchObject({
        code: "invalid_configuration",
      });
    } finally {
      await worker.stop();
      await api.close();
    }
  });

  it("checks typed events against their catalog schema, and a mismatch rolls the change back", async () => {
    const now = Date.now();
    await herald.store.createEventType({
      id: newId("evt", now),
      name: "order.created",
      description: "",
      schema: { type: "object", properties: { id: { type: "string" }, total: { type: "string" } }, required: ["id", "total"] },
      examples: [],
      archived: false,
      createdAt: now,
      updatedAt: now,
    });
    let caught: unknown;
    try {
      herald.transaction((tx) => {
        tx.db.prepare("INSERT INTO orders (id, total) VALUES (?, ?)").run("ord_9", "1.00");
        tx.publish({ app: "shop", eventType: "order.created", payload: { id: "ord_9", total: 1 } });
      });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HeraldError);
    expect((caught as HeraldError).code).toBe("validation_failed");
    expect((caught as HeraldError).errors?.[0]?.path).toBe("/payload/total");
    expect(orders()).toEqual([]);
    expect(await messages()).toEqual([]);
    herald.transaction((tx) => tx.publish({ app: "shop", eventType: "order.created", payload: { id: "ord_9", total: "1.00" } }));
    expect(await messages()).toHaveLength(1);
  });
});
