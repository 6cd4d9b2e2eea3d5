import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Store } from "../../src/store/store.js";
import { freshPostgresStore, postgresAvailable, type TestSchema } from "../helpers/postgres.js";
import { app, claim, endpoint, message, succeeded, T0 } from "./fixtures.js";

const available = await postgresAvailable();

/**
 * The rule the lease-fenced statements rely on (they test the lease, not the
 * status: src/store/postgres/queue.ts), kept by the database itself
 * (migration 12): only a pending delivery holds a lease.
 */
describe.skipIf(!available)("postgres: only a pending delivery holds a lease", () => {
  let schema: TestSchema;
  let store: Store;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ schema, store, close } = await freshPostgresStore());
  });
  afterEach(() => close());

  it("refuses to end a delivery that keeps its lease, and lets the store's own completion through", async () => {
    const a = await app(store);
    await endpoint(store, a);
    await store.publish([{ message: message(a) }], { now: T0 });
    const [job] = await claim(store, T0);
    expect(job).toBeDefined();
    const leased = await schema.query<{ lease_owner: string | null }>("SELECT lease_owner FROM deliveries WHERE id = $1", [job!.delivery.id]);
    expect(leased[0]?.lease_owner).toBe("w1");

    const ended = schema.query("UPDATE deliveries SET status = 'succeeded' WHERE id = $1", [job!.delivery.id]);
    await expect(ended).rejects.toMatchObject({ code: "23514", constraint: "deliveries_lease_only_when_pending" });

    const effects = await store.complete([succeeded(job!, T0 + 10)], T0 + 10);
    expect(effects.fenced).toEqual([]);
    const [row] = await schema.query<{ status: string; lease_owner: string | null }>(
      "SELECT status, lease_owner FROM deliveries WHERE id = $1",
      [job!.delivery.id],
    );
    expect(row).toEqual({ status: "succeeded", lease_owner: null });
  });

  it("migration 12 clears a lease an older build left on a finished delivery, then keeps the rule", async () => {
    const a = await app(store);
    await endpoint(store, a);
    await store.publish([{ message: message(a) }], { now: T0 });
    const [job] = await claim(store, T0);
    // The database as migration 11 left it, with a finished delivery that kept its lease.
    await schema.query("ALTER TABLE deliveries DROP CONSTRAINT deliveries_lease_only_when_pending; DELETE FROM herald_migrations WHERE id = 12");
    await schema.query("UPDATE deliveries SET status = 'succeeded' WHERE id = $1", [job!.delivery.id]);

    await store.migrate();
    const [row] = await schema.query<{ status: string; lease_owner: string | null }>(
      "SELECT status, lease_owner FROM deliveries WHERE id = $1",
      [job!.delivery.id],
    );
    expect(row).toEqual({ status: "succeeded", lease_owner: null });
    await expect(schema.query("UPDATE deliveries SET lease_owner = 'w9' WHERE id = $1", [job!.delivery.id])).rejects.toMatchObject({ code: "23514" });
  });
});
