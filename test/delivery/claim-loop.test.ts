import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryTuning } from "../../src/config/config.js";
import { ClaimLoop, type ClaimTarget } from "../../src/delivery/claim-loop.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import type { ClaimOptions, DeliveryJob } from "../../src/store/store.js";
import { sleep } from "../helpers/herald.js";
import { app, endpoint, publishOne } from "../store/fixtures.js";

/**
 * When the claim loop asks the store for work. A completion frees room, but a
 * claim then helps only if the last one left due work behind; a retry
 * recorded for soon must be claimed when due, not at the next poll.
 */

const tuning: DeliveryTuning = {
  concurrency: 8,
  perEndpointConcurrency: 8,
  claimBatch: 4,
  leaseMs: 60_000,
  pollIntervalMs: 60_000, // nothing here may rely on the poll
  shutdownTimeoutMs: 1000,
};

let dir: string;
let store: SqliteStore;
let claims: ClaimOptions[];
let loop: ClaimLoop;
let offered: DeliveryJob[];
let room: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "herald-claim-loop-"));
  store = new SqliteStore(join(dir, "herald.db"));
  await store.migrate();
  claims = [];
  offered = [];
  room = 100;
  loop = countingLoop();
});

/** A loop over the store that records each claim; `shortClaimGapMs` as given, else the default. */
function countingLoop(shortClaimGapMs?: number): ClaimLoop {
  const counting = Object.create(store) as SqliteStore;
  counting.claimDue = (options: ClaimOptions) => {
    claims.push(options);
    return store.claimDue(options);
  };
  const target: ClaimTarget = { room: () => room, saturated: () => [], held: () => [], offer: (jobs) => offered.push(...jobs) };
  return new ClaimLoop(counting, "worker-1", tuning.leaseMs, tuning, 8, target, pino({ level: "silent" }), undefined, shortClaimGapMs);
}

afterEach(async () => {
  await loop.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const settle = () => sleep(60);

describe("the claim loop", () => {
  it("does not claim again when room frees after a claim that took everything due; a wake claims", async () => {
    loop.start();
    await settle();
    expect(claims).toHaveLength(1); // the first look, which found nothing

    for (let i = 0; i < 5; i++) loop.roomFreed();
    await settle();
    expect(claims).toHaveLength(1);

    loop.wake(); // e.g. a publish that left work for a claim
    await settle();
    expect(claims).toHaveLength(2);
  });

  it("claims again when room frees after a claim that room cut short, not after one that took everything due", async () => {
    const a = await app(store);
    await endpoint(store, a);
    for (let i = 0; i < 5; i++) await publishOne(store, a, {}, Date.now());
    room = 2; // each claim may take only two: a full one is followed by the next at once
    loop.start();
    await settle();
    expect(claims.map((c) => c.limit)).toEqual([2, 2, 2]);
    expect(offered).toHaveLength(5);

    // The last claim came back short, but it was cut by room: work may be left (here: none is).
    room = 100;
    loop.roomFreed();
    await settle();
    expect(claims.map((c) => c.limit)).toEqual([2, 2, 2, 4]);
    // That one took everything due: room freed again finds nothing new.
    const after = claims.length;
    loop.roomFreed();
    await settle();
    expect(claims).toHaveLength(after);
  });

  it("after a short claim pauses before claiming again, unless a FIFO queue moved on", async () => {
    loop = countingLoop(60_000); // a pause far longer than the test: only what cuts it short can claim
    loop.start();
    await settle();
    expect(claims).toHaveLength(1); // short: nothing was due

    loop.wake(); // a publish, say: claimed after the pause, not at once
    await settle();
    expect(claims).toHaveLength(1);

    loop.promoted(); // a FIFO endpoint's next message is due: claimed now
    await settle();
    expect(claims).toHaveLength(2);
  });

  it("wakes for a retry announced as due before its next look, not at the poll", async () => {
    loop.start();
    await settle();
    expect(claims).toHaveLength(1);
    loop.dueAt(Date.now() + 100);
    await sleep(40);
    expect(claims).toHaveLength(1);
    await sleep(150);
    expect(claims).toHaveLength(2);
  });
});
