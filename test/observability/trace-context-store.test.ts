import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";
import type { Message } from "../../src/store/model.js";
import { openPostgresStore } from "../../src/store/postgres/index.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/herald.js";
import { freshSchema, postgresAvailable } from "../helpers/postgres.js";
import { endpointRow } from "../helpers/rows.js";

/**
 * Migration 6 on both stores: the publish span's `traceparent` is written with
 * the message and comes back with every job of it (handed over by the publish,
 * or claimed later by any worker); the queue depth is one count.
 */

const postgres = await postgresAvailable();
const TRACE = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async function roundTrip(store: Store) {
  await store.migrate();
  const now = Date.now();
  const app = await store.createApplication({ id: newId("app", now), uid: null, name: "a", metadata: {}, createdAt: now, updatedAt: now });
  await store.createEndpoint(endpointRow(app.id, "https://example.com/a", now));
  await store.createEndpoint(endpointRow(app.id, "https://example.com/b", now));
  const message = (traceContext?: string): Message => ({
    id: newId("msg", now),
    appId: app.id,
    eventType: "a.b",
    eventId: null,
    payload: "{}",
    channels: null,
    createdAt: now,
    ...(traceContext ? { traceContext } : {}),
  });
  const traced = message(TRACE);
  const plain = message();
  // One delivery of the batch leased to the publisher's worker, the other three left for a claim.
  const results = await store.publish([{ message: traced }, { message: plain }], { now, lease: { owner: "me", until: now + 60_000, max: 1 } });
  expect(results[0]!.jobs.map((j) => j.message.traceContext)).toEqual([TRACE]);
  expect(await store.queueDepth()).toBe(4);
  const claimed = await store.claimDue({ owner: "other", now, leaseUntil: now + 60_000, limit: 10 });
  expect(claimed).toHaveLength(3);
  for (const job of claimed) {
    if (job.message.id === traced.id) expect(job.message.traceContext).toBe(TRACE);
    else expect(job.message).not.toHaveProperty("traceContext");
  }
  expect(await store.queueDepth()).toBe(4); // leased is still pending
}

describe("trace context with the message, and the queue depth", () => {
  it("sqlite", async () => {
    const { dir, cleanup } = tempDir();
    const store = openSqliteStore(join(dir, "herald.db"));
    try {
      await roundTrip(store);
    } finally {
      await store.close();
      cleanup();
    }
  });

  it.skipIf(!postgres)("postgres", async () => {
    const schema = freshSchema();
    const store = openPostgresStore(schema.url);
    try {
      await roundTrip(store);
    } finally {
      await store.close();
      await schema.drop();
    }
  });
});
