import { describe, expect, it, onTestFinished } from "vitest";
import { bucket, sleep } from "./harness.js";
import { drain, startSqlite } from "./setups.js";
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
    const setup = await startSqlite(
      {
        endpoints: [
          { name: "steady" },
          // A third of the messages: the first two attempts are cut off before any response byte.
          { name: "resetting", behaviour: { reset: (id, attempt) => bucket(id, 3) === 0 && attempt <= 2 } },
          { name: "flaky", behaviour: { delayMs: 20, reset: (id, attempt) => bucket(id, 2) === 0 && attempt === 1 } },
        ],
      },
      onTestFinished,
    );
    const load = setup.startLoad({ ratePerSec: 80 });
    setup.note("load started");
    await sleep(4000);
    await load.stop();
    setup.note("load stopped");
    await drain(setup);

    const report = await checkInvariants({ scenario: "SQLite, receivers resetting connections", setup, publishes: load.publishes });
    expectClean(report);
    expect(report.stats.resets).toBeGreaterThan(100);
  }, 60_000);
});
