import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Herald } from "../../src/herald.js";
import { createEndpoint, silentLogger, sleep } from "../helpers/herald.js";
import { POSTGRES_URL, type TestSchema, freshSchema, postgresAvailable } from "../helpers/postgres.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

const available = await postgresAvailable();

/**
 * The transactional outbox on PostgreSQL: `publishWith` writes with the
 * caller's client inside the caller's transaction. Here the producer is an
 * `api`-role Herald and the deliveries are made by a separate worker Herald,
 * woken by NOTIFY at commit: the scale-out shape.
 */
describe.skipIf(!available)("transactional outbox (PostgreSQL)", () => {
  let schema: TestSchema;
  let api: Herald;
  let worker: Herald;
  let receiver: Receiver;
  let client: pg.Client;

  const open = (role: string) =>
    Herald.open({
      settings: { HERALD_DATABASE_URL: schema.url, HERALD_ROLE: role, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" },
      // A long poll: only NOTIFY can make the worker this quick.
      config: { delivery: { pollIntervalMs: 60_000 } as never },
      logger: silentLogger(),
    });

  beforeEach(async () => {
    schema = freshSchema();
    receiver = await startReceiver();
    api = await open("api");
    worker = await open("worker");
    await worker.start();
    const app = await api.createApplication({ name: "Shop", uid: "shop" });
    await createEndpoint(api, app, receiver.url);
    client = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema.schema}` });
    await client.connect();
    await client.query("CREATE TABLE orders (id TEXT PRIMARY KEY, total NUMERIC NOT NULL)");
  });
  afterEach(async () => {
    await client.end();
    await worker.stop();
    await api.stop();
    await receiver.close();
    await schema.drop();
  });

  const orders = async () => (await client.query("SELECT id FROM orders ORDER BY id")).rows.map((r) => r.id);
  const messageCount = async () => Number((await client.query("SELECT count(*) AS n FROM messages")).rows[0].n);

  it("commit: the change and the event commit together, and the worker delivers at once", async () => {
    await client.query("BEGIN");
    await client.query("INSERT INTO orders (id, total) VALUES ($1, $2)", ["ord_1", "12.50"]);
    const { message, created } = await api.publishWith(client, { app: "shop", eventType: "order.created", payload: { id: "ord_1", total: "12.50" } });
    expect(created).toBe(true);
    await sleep(200);
    expect(receiver.received).toEqual([]); // nothing leaves before the commit
    const committedAt = Date.now();
    await client.query("COMMIT");
    const [req] = await receiver.waitFor(1, 5000);
    expect(Date.now() - committedAt).toBeLessThan(3000); // NOTIFY, not the 60 s poll
    expect(req!.headers["webhook-id"]).toBe(message.id);
    expect(req!.body).toBe('{"id":"ord_1","total":"12.50"}');
    expect(await orders()).toEqual(["ord_1"]);
  });

  it("a FIFO endpoint gets what the outbox published in commit order, one at a time, woken by NOTIFY", async () => {
    const fifo = await api.createEndpoint("shop", { url: `${receiver.url}/fifo`, ordering: "fifo" });
    expect(fifo.ordering).toBe("fifo");
    await client.query("BEGIN");
    for (const n of [1, 2]) await api.publishWith(client, { app: "shop", eventType: "order.created", payload: { n } });
    await client.query("COMMIT");
    await client.query("BEGIN");
    await api.publishWith(client, { app: "shop", eventType: "order.created", payload: { n: 3 } });
    await client.query("COMMIT");
    await receiver.waitFor(6, 10_000); // three to each endpoint
    const toFifo = receiver.received.filter((r) => r.path === "/fifo").map((r) => (JSON.parse(r.body) as { n: number }).n);
    expect(toFifo).toEqual([1, 2, 3]);
  });

  it("rollback: neither the change nor the event exists, and nothing is delivered", async () => {
    await client.query("BEGIN");
    await client.query("INSERT INTO orders (id, total) VALUES ($1, $2)", ["ord_2", "1"]);
    await api.publishWith(client, { app: "shop", eventType: "order.created", payload: { id: "ord_2" }, idempotencyKey: "ord_2" });
    await client.query("ROLLBACK");
    await sleep(300);
    expect(receiver.received).toEqual([]);
    expect(await orders()).toEqual([]);
    expect(await messageCount()).toBe(0);
    // The key was never used: publishing it again creates the message.
    await client.query("BEGIN");
    expect((await api.publishWith(client, { app: "shop", eventType: "order.created", payload: {}, idempotencyKey: "ord_2" })).created).toBe(true);
    await client.query("COMMIT");
    await receiver.waitFor(1, 5000);
  });

  it("refuses a client with no open transaction, and leaves the caller's transaction usable after a refused publish", async () => {
    await expect(api.publishWith(client, { app: "shop", eventType: "a.b", payload: {} })).rejects.toThrow(/no open transaction/);
    expect(await messageCount()).toBe(0);
    await client.query("BEGIN");
    await client.query("INSERT INTO orders (id, total) VALUES ($1, $2)", ["ord_3", "3"]);
    await expect(api.publishWith(client, { app: "nope", eventType: "a.b", payload: {} })).rejects.toMatchObject({ code: "not_found" });
    await client.query("INSERT INTO orders (id, total) VALUES ($1, $2)", ["ord_4", "4"]);
    await client.query("COMMIT");
    expect(await orders()).toEqual(["ord_3", "ord_4"]);
    expect(await messageCount()).toBe(0);
    expect(() => api.transaction(() => 1)).toThrow(expect.objectContaining({ code: "invalid_configuration" }));
  });

  it("takes anything with query(text, values), e.g. a query builder's transaction wrapped in one line", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, options: `-c search_path=${schema.schema}` });
    try {
      const tx = await pool.connect();
      // Shaped like a Kysely adapter, `(text, values) => trx.executeQuery(CompiledQuery.raw(text, values))`:
      // not generic, read-only values, rows of unknown, no rowCount.
      const adapter = {
        query: async (text: string, values: readonly unknown[] = []): Promise<{ rows: unknown[] }> => ({ rows: (await tx.query(text, [...values])).rows }),
      };
      await tx.query("BEGIN");
      await api.publishWith(adapter, { app: "shop", eventType: "order.created", payload: { via: "adapter" } });
      await tx.query("COMMIT");
      tx.release();
      const [req] = await receiver.waitFor(1, 5000);
      expect(req!.body).toBe('{"via":"adapter"}');
    } finally {
      await pool.end();
    }
  });
});
