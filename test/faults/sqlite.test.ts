import { describe, expect, it, onTestFinished } from "vitest";
import { sleep } from "./harness.js";
import { drain, RESETTING_ENDPOINTS, startSqlite, steadyLoad } from "./setups.js";
import { pendingCount } from "./store.js";
import { checkInvariants, expectClean } from "./invariants.js";

/**
 * Faults injected into one real `herald serve` on SQLite under steady load
 * (80 publishes a second through the API to three receivers); the invariants
 * are those of `invariants.ts`.
 */
describe("fault injection: SQLite, one herald serve", () => {
  it("SIGKILL mid-load and a restart: nothing acknowledged is lost, repeats only of what the kill cut off", async () => {
    const setup = await startSqlite(
      { endpoints: [{ name: "a" }, { name: "b" }, { name: "slow", behaviour: { delayMs: 300 } }] },
      onTestFinished,
    );
    const load = setup.startLoad({ ratePerSec: 80 });
    setup.note("load started");
    await sleep(2500);
    const inFlight = setup.receivers.open;
    const pending = await pendingCount(setup.db);
    const killedAt = setup.note(`SIGKILL (${inFlight} requests in flight, ${pending} deliveries pending)`);
    await setup.server.kill9();
    // What it sent before dying may still be in the receivers' socket buffers.
    const deadAt = Date.now() + 200;
    await sleep(300);
    await setup.startServer();
    setup.note("restarted");
    await sleep(2500);
    await load.stop();
    setup.note("load stopped");
    await drain(setup);

    const report = await checkInvariants({
      scenario: "SQLite, SIGKILL mid-load and restart",
      setup,
      publishes: load.publishes,
      // Repeats can only be of attempts in flight at the kill, or finished in the
      // last few ms before it (their bookkeeping is written in batches).
      faultWindows: [[killedAt - 1500, deadAt]],
    });
    expectClean(report);
    // The kill really cut attempts off.
    expect(inFlight).toBeGreaterThan(0);
  }, 60_000);

  it("a receiver that resets connections: failures are retried, nothing lost, no repeat of a processed message", async () => {
    const setup = await startSqlite({ endpoints: RESETTING_ENDPOINTS }, onTestFinished);
    const publishes = await steadyLoad(setup, 80, 4000);

    const report = await checkInvariants({ scenario: "SQLite, receivers resetting connections", setup, publishes });
    expectClean(report);
    expect(report.stats.resets).toBeGreaterThan(100);
  }, 60_000);
});
