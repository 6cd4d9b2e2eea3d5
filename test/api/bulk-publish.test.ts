import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import type { ApplicationId } from "../../src/core/ids.js";
import { GroupCommitPublisher } from "../../src/publish/publisher.js";
import type { Store } from "../../src/store/store.js";
import { MAX_JSON_DEPTH } from "../../src/core/json-limits.js";
import type { Application } from "../../src/store/model.js";
import { createApp, createEndpoint, eventually, openTestHerald } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * Bulk publish (contract §9), over real HTTP and through the library, on the
 * store `HERALD_TEST_STORE` selects (SQLite by default; PostgreSQL with
 * `HERALD_TEST_STORE=postgres`): request order, dedup by `id`, all or nothing,
 * the limits, and a delivery to a real receiver for every message.
 */

const KEY = "bulk-admin-key-0123456789";
const MAX = 4096; // HERALD_MAX_PAYLOAD_BYTES: a batch's payloads may add up to 4 × this

const nested = (depth: number): unknown => {
  let v: unknown = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
};

describe("bulk publish", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let query: <R = Record<string, unknown>>(sql: string, ...params: unknown[]) => Promise<R[]>;
  let url: string;
  let receiver: Receiver;
  let app: Application;

  beforeAll(async () => {
    ({ herald, close, query } = await openTestHerald({ HERALD_API_KEY: KEY, HERALD_MAX_PAYLOAD_BYTES: String(MAX), HERALD_RETRY_SCHEDULE: "0s,1m" }));
    await herald.start();
    ({ url } = await herald.listen());
    receiver = await startReceiver();
    app = await createApp(herald, "bulk");
    await createEndpoint(herald, app, receiver.url);
    await herald.store.createEventType({
      id: "evt_01ARZ3NDEKTSV4RRFFQ69G5FAV",
      name: "order.typed",
      description: "",
      schema: { type: "object", required: ["n"], properties: { n: { type: "integer" } } },
      examples: [],
      archived: false,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    } as never);
  });
  afterAll(async () => {
    await receiver?.close();
    await close?.();
  });

  const post = async (body: unknown, path = `/api/v1/applications/${app.id}/messages/batch`) => {
    const res = await fetch(url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
    return { status: res.status, body: (await res.json()) as any };
  };
  const count = async () => Number((await query<{ n: number }>("SELECT count(*) AS n FROM messages"))[0]!.n);

  it("answers 202 with the messages in request order, and delivers every one", async () => {
    const before = receiver.received.length;
    const messages = Array.from({ length: 50 }, (_, i) => ({ eventType: "order.created", payload: { i } }));
    const res = await post({ messages });
    expect(res.status).toBe(202);
    expect(res.body.data).toHaveLength(50);
    expect(res.body.data.map((m: { payload: { i: number } }) => m.payload.i)).toEqual(messages.map((m) => m.payload.i));
    expect(res.body.data.every((m: { id: string }) => m.id.startsWith("msg_"))).toBe(true);
    // Each is the message as reading it answers it.
    const read = await fetch(`${url}/api/v1/applications/${app.id}/messages/${res.body.data[7].id}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(await read.json()).toEqual(res.body.data[7]);
    const got = await receiver.waitFor(before + 50, 15_000);
    const bodies = new Set(got.slice(before).map((r) => r.body));
    for (let i = 0; i < 50; i++) expect(bodies.has(JSON.stringify({ i }))).toBe(true);
    await eventually(async () => {
      const rows = await query<{ status: string }>(
        "SELECT d.status FROM deliveries d JOIN messages m ON m.id = d.message_id WHERE m.id IN (" + res.body.data.map(() => "?").join(",") + ")",
        ...res.body.data.map((m: { id: string }) => m.id),
      );
      return rows.length === 50 && rows.every((r) => r.status === "succeeded");
    });
  });

  it("dedups by id against stored messages and within the batch", async () => {
    const first = await post({ messages: [{ eventType: "order.created", payload: { k: 1 }, id: "key-1" }] });
    expect(first.status).toBe(202);
    const n = await count();
    const res = await post({
      messages: [
        { eventType: "order.created", payload: { k: "again" }, id: "key-1" },
        { eventType: "order.created", payload: { k: 2 }, id: "key-2" },
        { eventType: "order.created", payload: { k: "twice" }, id: "key-2" },
        { eventType: "order.created", payload: { k: 3 } },
      ],
    });
    expect(res.status).toBe(202);
    const [a, b, c, d] = res.body.data;
    expect(a.id).toBe(first.body.data[0].id);
    expect(a.payload).toEqual({ k: 1 });
    expect(c.id).toBe(b.id);
    expect(c.payload).toEqual({ k: 2 });
    expect(d.id).not.toBe(b.id);
    expect(await count()).toBe(n + 2);
  });

  it("refuses the whole batch when one message is invalid, naming its index, and stores nothing", async () => {
    const n = await count();
    const ok = { eventType: "order.created", payload: { fine: true }, channels: ["a", "a"] };
    const cases: [unknown, string][] = [
      [{ eventType: "order.typed", payload: { n: "one" } }, "/messages/3/payload/n"],
      [{ eventType: "order.created", payload: { big: "x".repeat(MAX) } }, "/messages/3/payload"],
      [{ eventType: "order.created", payload: nested(MAX_JSON_DEPTH + 1) }, "/messages/3/payload"],
      [{ eventType: "not valid!", payload: {} }, "/messages/3/eventType"],
      [{ eventType: "order.created", payload: {}, id: "" }, "/messages/3/id"],
      [{ eventType: "order.created", payload: [] }, "/messages/3/payload"],
    ];
    for (const [bad, path] of cases) {
      const res = await post({ messages: [ok, ok, ok, bad, ok] });
      expect(res.status, path).toBe(422);
      expect(res.body.code).toBe("validation_failed");
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(res.body.errors.every((e: { path: string }) => e.path.startsWith("/messages/3/"))).toBe(true);
    }
    // A type's schema is looked up once per batch and still checks each of its messages.
    const typed = (n: unknown) => ({ eventType: "order.typed", payload: { n } });
    const repeated = await post({ messages: [typed(1), ok, typed(2), typed("three"), ok] });
    expect(repeated.status).toBe(422);
    expect(repeated.body.errors.map((e: { path: string }) => e.path)).toEqual(["/messages/3/payload/n"]);
    // The deepest payload a single publish takes is taken here too.
    expect((await post({ messages: [{ eventType: "order.created", payload: nested(MAX_JSON_DEPTH) }] })).status).toBe(202);
    expect(await count()).toBe(n + 1);
  });

  it("takes at most 1,000 messages (1,001: 422) and none (422)", async () => {
    const n = await count();
    const res = await post({ messages: Array.from({ length: 1001 }, () => ({ eventType: "a.b", payload: {} })) });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe("/messages");
    expect((await post({ messages: [] })).status).toBe(422);
    expect(await count()).toBe(n);
  });

  it("refuses more than 4 × HERALD_MAX_PAYLOAD_BYTES of payloads, and a larger body, with 413", async () => {
    const n = await count();
    const within = Array.from({ length: 5 }, () => ({ eventType: "a.b", payload: { s: "x".repeat(MAX - 100) } }));
    const res = await post({ messages: within });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("payload_too_large");
    const huge = await post({ messages: [{ eventType: "a.b", payload: { s: "x".repeat(MAX * 4 + 1_100_000) } }] });
    expect(huge.status).toBe(413);
    expect(huge.body.code).toBe("payload_too_large");
    expect(await count()).toBe(n);
  });

  it("publishes 1,000 messages in one request", async () => {
    const n = await count();
    const before = receiver.received.length;
    const res = await post({ messages: Array.from({ length: 1000 }, (_, i) => ({ eventType: "bulk.full", payload: { i } })) });
    expect(res.status).toBe(202);
    expect(res.body.data).toHaveLength(1000);
    expect(await count()).toBe(n + 1000);
    await receiver.waitFor(before + 1000, 30_000);
  });

  it("is in the library: herald.publishBatch, with the same checks, all or nothing", async () => {
    const n = await count();
    const results = await herald.publishBatch(app.id, [
      { eventType: "lib.one", payload: { a: 1 }, idempotencyKey: "lib-1" },
      { eventType: "lib.two", payload: '{"b":2}' },
      { eventType: "lib.one", payload: { a: "again" }, idempotencyKey: "lib-1" },
    ]);
    expect(results.map((r) => r.created)).toEqual([true, true, false]);
    expect(results[2]!.message.id).toBe(results[0]!.message.id);
    expect(results[1]!.message.payload).toBe('{"b":2}');
    expect(await count()).toBe(n + 2);

    const err = await herald
      .publishBatch(app.id, [{ eventType: "lib.one", payload: {} }, { eventType: "order.typed", payload: { n: 1.5 } }])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "validation_failed", status: 422 });
    expect((err as { errors: { path: string }[] }).errors[0]!.path).toBe("/messages/1/payload/n");
    await expect(herald.publishBatch(app.id, [{ eventType: "a.b", payload: nested(MAX_JSON_DEPTH + 1) }])).rejects.toMatchObject({
      code: "validation_failed",
      errors: [{ path: "/messages/0/payload" }],
    });
    await expect(herald.publishBatch(app.id, Array.from({ length: 1001 }, () => ({ eventType: "a.b", payload: {} })))).rejects.toMatchObject({
      code: "validation_failed",
    });
    await expect(herald.publishBatch(app.id, Array.from({ length: 5 }, () => ({ eventType: "a.b", payload: JSON.stringify("x".repeat(MAX - 20)) })))).rejects.toMatchObject({
      code: "payload_too_large",
    });
    await expect(herald.publishBatch("no-such-app", [{ eventType: "a.b", payload: {} }])).rejects.toMatchObject({ code: "not_found" });
    expect(await count()).toBe(n + 2);
  });

  it("writes a batch with one store.publish call, apart from single publishes, and rolls all of it back on a failure", async () => {
    const calls: number[] = [];
    const store = new Proxy(herald.store, {
      get(target, key) {
        if (key === "publish") {
          return (batch: unknown[], options: unknown) => {
            calls.push(batch.length);
            return target.publish(batch as never, options as never);
          };
        }
        const v = Reflect.get(target, key);
        return typeof v === "function" ? v.bind(target) : v;
      },
    }) as Store;
    const publisher = new GroupCommitPublisher(store);
    const input = (i: number, appId = app.id) => ({ appId: appId as ApplicationId, eventType: "unit.x", payload: JSON.stringify({ i }), channels: null, eventId: null });
    const n = await count();
    const single = publisher.publish(input(-1));
    const [batch] = await Promise.all([publisher.publishBatch(Array.from({ length: 1000 }, (_, i) => input(i))), single]);
    expect(batch.map((r) => JSON.parse(r.message.payload).i)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(calls).toContain(1000);
    expect(calls.filter((c) => c !== 1000).every((c) => c < 1000)).toBe(true);
    expect(await count()).toBe(n + 1001);

    // A message the store refuses (its application does not exist) fails the whole batch: nothing is stored.
    const bad = [...Array.from({ length: 10 }, (_, i) => input(i)), input(10, "app_01ARZ3NDEKTSV4RRFFQ69G5FAV")];
    await expect(publisher.publishBatch(bad)).rejects.toBeDefined();
    expect(calls.at(-1)).toBe(11);
    expect(await count()).toBe(n + 1001);
    await publisher.close();
  });
});
