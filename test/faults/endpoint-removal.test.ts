import { describe, expect, it, onTestFinished } from "vitest";
import { postgresAvailable } from "../helpers/postgres.js";
import { APP, sleep } from "./harness.js";
import { type EndpointSpec, type Setup, drain, startPostgres, startSqlite } from "./setups.js";
import { type Removal, checkInvariants, expectClean } from "./invariants.js";

const available = await postgresAvailable();

/**
 * Two healthy endpoints, and two that are removed during the load. The
 * victims are rate-limited (15 a second per delivering process, a quarter of
 * the load), so each delivering process holds a backlog of their work in
 * memory and in the store when they are removed: the removal must stop it.
 * Their receivers answer in 150 ms, so their slots never idle (an idle slot
 * is dropped, and a new one starts with a full token bucket).
 */
const ENDPOINTS: EndpointSpec[] = [
  { name: "a" },
  { name: "b" },
  { name: "deleted", rateLimit: 15, behaviour: { delayMs: 150 } },
  { name: "disabled", rateLimit: 15, behaviour: { delayMs: 150 } },
];

async function pendingFor(setup: Setup, name: string): Promise<number> {
  const rows = await setup.db.query<{ n: number }>(
    "SELECT count(*) AS n FROM deliveries WHERE status = 'pending' AND endpoint_id = ?",
    setup.endpoints.get(name),
  );
  return Number(rows[0]!.n);
}

/** Deletes one endpoint and disables another through the API while 60 messages a second are published. */
async function removeUnderLoad(setup: Setup, scenario: string): Promise<void> {
  const load = setup.startLoad({ ratePerSec: 60 });
  setup.note("load started");
  await sleep(2000);
  const removals: Removal[] = [];
  const backlogDeleted = await pendingFor(setup, "deleted");
  const deleted = await setup.api.ok("DELETE", `/applications/${APP}/endpoints/${setup.endpoints.get("deleted")}`);
  removals.push({ endpoint: "deleted", kind: "deleted", at: deleted.at });
  setup.note(`"deleted" deleted, ${backlogDeleted} deliveries pending for it`);
  await sleep(1000);
  const backlogDisabled = await pendingFor(setup, "disabled");
  const disabled = await setup.api.ok("POST", `/applications/${APP}/endpoints/${setup.endpoints.get("disabled")}/disable`, {});
  removals.push({ endpoint: "disabled", kind: "disabled", at: disabled.at });
  setup.note(`"disabled" disabled, ${backlogDisabled} deliveries pending for it`);
  await sleep(1500);
  await load.stop();
  setup.note("load stopped");
  await drain(setup);

  const report = await checkInvariants({ scenario, setup, publishes: load.publishes, removals });
  expectClean(report);
  // The removals cut off work in hand.
  expect(backlogDeleted).toBeGreaterThan(0);
  expect(backlogDisabled).toBeGreaterThan(0);
}

describe("fault injection: endpoints deleted and disabled under load", () => {
  it("SQLite, one herald serve: nothing is sent to an endpoint after its deletion or disabling was answered", async () => {
    const setup = await startSqlite({ endpoints: ENDPOINTS }, onTestFinished);
    await removeUnderLoad(setup, "SQLite, endpoints deleted and disabled under load");
  }, 60_000);

  it.skipIf(!available)(
    "PostgreSQL, one API process and two workers: nothing is sent to an endpoint after its deletion or disabling was answered",
    async () => {
      const setup = await startPostgres({ workers: 2, endpoints: ENDPOINTS }, onTestFinished);
      await removeUnderLoad(setup, "PostgreSQL, endpoints deleted and disabled under load");
    },
    60_000,
  );
});
