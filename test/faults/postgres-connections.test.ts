import { describe, expect, it, onTestFinished } from "vitest";
import { postgresAvailable } from "../helpers/postgres.js";
import { sleep, until } from "./harness.js";
import { drain, probe, RESETTING_ENDPOINTS, startPostgres, steadyLoad } from "./setups.js";
import { pendingCount } from "./store.js";
import { checkInvariants, expectClean } from "./invariants.js";

const available = await postgresAvailable();

/** Longest a probe may take from its 202 to its last arrival: far below the 1 s poll a lost LISTEN would fall back to. */
const PROMPT_MS = 400;

/**
 * Faults on the connections of a scale-out setup (`herald serve --role api`
 * and two `herald worker`s on one fresh PostgreSQL schema) under steady load:
 * the database cutting every connection, and receivers cutting theirs.
 */
describe.skipIf(!available)("fault injection: PostgreSQL connections, one API process and two workers", () => {
  it("pg_terminate_backend of every Herald connection, twice: all reconnect, LISTEN included, and nothing is lost", async () => {
    const setup = await startPostgres(
      { workers: 2, endpoints: [{ name: "a" }, { name: "b" }, { name: "slow", behaviour: { delayMs: 200 } }] },
      onTestFinished,
    );
    const load = setup.startLoad({ ratePerSec: 60 });
    setup.note(`load started; connections ${JSON.stringify(await setup.connections())}`);
    await sleep(2000);
    // Only this setup's backends: they carry its application_name prefix.
    const first = await setup.terminateBackends();
    const firstAt = setup.note(`terminated ${JSON.stringify(first)}`);
    await sleep(1500);
    const second = await setup.terminateBackends();
    const secondAt = setup.note(`terminated ${JSON.stringify(second)}`);
    await sleep(2500);
    await load.stop();
    setup.note("load stopped");
    await drain(setup);

    // Every process came back; each worker holds its presence lock again (taken on its LISTEN connection).
    const presence = await until(async () => {
      const p = await setup.presence();
      return p.w1 === 1 && p.w2 === 1 ? p : null;
    }, 5000);
    setup.note(`presence ${JSON.stringify(await setup.presence())}, connections ${JSON.stringify(await setup.connections())}`);
    // LISTEN works again in each worker: with the other one frozen (idle, it holds
    // nothing), a message published while the worker idles is sent at once.
    const listen: string[] = [];
    const probes = [];
    for (const [i, worker] of setup.workers.entries()) {
      const other = setup.workers[1 - i]!;
      // Frozen only once idle: an attempt it still had in flight would time out when it thaws.
      await until(async () => (await pendingCount(setup.db)) === 0 && setup.receivers.open === 0, 5000, 20);
      other.freeze();
      const p = await probe(setup, 5);
      other.thaw();
      probes.push(...p.publishes);
      setup.note(`${worker.name} alone: probes arrived after ${p.latencies.join(", ")} ms`);
      if (p.latencies.some((ms) => ms > PROMPT_MS)) {
        listen.push(`${worker.name}: probes took ${p.latencies.join(", ")} ms after their 202 (a worker woken by NOTIFY takes them at once)`);
      }
    }
    await drain(setup);

    const report = await checkInvariants({
      scenario: "PostgreSQL, pg_terminate_backend of every Herald connection, twice",
      setup,
      publishes: [...load.publishes, ...probes],
      // A repeat can follow a terminated connection (a completion lost with it), and a
      // worker whose presence lock vanished may be taken for dead by the other (checked every 5 s).
      faultWindows: [[firstAt - 1000, secondAt + 6000]],
    });
    expectClean(report, { listen, reconnect: presence ? [] : ["a worker did not take its presence lock again within 5 s"] });
    expect(Object.keys(first).sort()).toEqual(["api", "w1", "w2"]);
    expect(Object.keys(second).sort()).toEqual(["api", "w1", "w2"]);
  }, 90_000);

  it("receivers resetting connections: failures are retried, nothing lost, no repeat of a processed message", async () => {
    const setup = await startPostgres({ workers: 2, endpoints: RESETTING_ENDPOINTS }, onTestFinished);
    const publishes = await steadyLoad(setup, 60, 4000);

    const report = await checkInvariants({ scenario: "PostgreSQL, receivers resetting connections", setup, publishes });
    expectClean(report);
    expect(report.stats.resets).toBeGreaterThan(100);
  }, 60_000);
});
