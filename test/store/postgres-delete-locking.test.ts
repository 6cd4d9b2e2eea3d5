import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Application, Endpoint } from "../../src/store/model.js";
import type { DeliveryJob, Store } from "../../src/store/store.js";
import { POSTGRES_URL, freshPostgresStore, postgresAvailable, type TestSchema } from "../helpers/postgres.js";
import { T0, app, claim, endpoint, publishOne } from "./fixtures.js";

const available = await postgresAvailable();

/**
 * A completion batch locks its deliveries, then their endpoint (its last
 * success). Deleting the endpoint or its application while one is in flight
 * must wait for it, not deadlock with it (which fails one of the two: a 500
 * for the person deleting, seen under load in test/faults/endpoint-removal).
 * Played here step by step on a connection of the test's own: lock the
 * delivery, let the delete start, then take the endpoint's row.
 */
describe.skipIf(!available)("postgres: deleting while a completion is in flight", () => {
  let schema: TestSchema;
  let store: Store;
  let close: () => Promise<void>;
  let completion: pg.Client;
  let a: Application;
  let e: Endpoint;
  let job: DeliveryJob;

  beforeEach(async () => {
    ({ schema, store, close } = await freshPostgresStore());
    a = await app(store);
    e = await endpoint(store, a);
    await publishOne(store, a);
    [job] = (await claim(store, T0)) as [DeliveryJob];
    completion = new pg.Client({ connectionString: POSTGRES_URL, options: `-c search_path=${schema.schema}` });
    await completion.connect();
  });

  afterEach(async () => {
    await completion.end();
    await close();
  });

  /** Whether a connection other than the completion's is waiting for a lock. */
  const someoneWaits = async () => {
    const { rows } = await completion.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid() AND datname = current_database()",
    );
    return rows[0].n > 0;
  };

  it.each([
    ["the endpoint", () => store.deleteEndpoint(a.id, e.id)],
    ["the application", () => store.deleteApplication(a.id)],
  ])("deleting %s waits for the completion and then succeeds", async (_what, remove) => {
    await completion.query("BEGIN");
    await completion.query("UPDATE deliveries SET updated_at = updated_at + 1 WHERE id = $1", [job.delivery.id]);
    const deleted = remove();
    deleted.catch(() => {}); // judged below; a deadlock must not also surface as an unhandled rejection
    const deadline = Date.now() + 5_000;
    while (!(await someoneWaits())) {
      if (Date.now() > deadline) throw new Error("the delete never waited for the delivery the completion holds");
      await new Promise((r) => setTimeout(r, 20));
    }
    // The completion's second step: without the delete's lock order, PostgreSQL reports a deadlock here or in the delete.
    await completion.query("UPDATE endpoints SET last_success_at = $1 WHERE id = $2", [T0, e.id]);
    await completion.query("COMMIT");
    await expect(deleted).resolves.toBe(true);
    expect(await schema.query("SELECT id FROM deliveries WHERE id = $1", [job.delivery.id])).toEqual([]);
  });
});
