import { afterEach, beforeEach, describe } from "vitest";
import { catalogContract } from "./catalog-contract.js";
import { endpointContract } from "./endpoint-contract.js";
import type { OpenTestStore, TestStore } from "./fixtures.js";
import { fencingContract } from "./fencing-contract.js";
import { fifoContract } from "./fifo-contract.js";
import { filterContract } from "./filter-contract.js";
import { queueContract } from "./queue-contract.js";
import { triageContract } from "./triage-contract.js";

export interface StoreTestOptions {
  /** The backend is not reachable here: skip the whole suite (loudly, where it is required). */
  skip?: boolean;
  /**
   * Other sessions can hold row locks while the store writes (PostgreSQL): the
   * tests of a write that waits on such a lock run. SQLite has one writer at a
   * time and synchronous statements, so a write never waits mid-way there.
   */
  concurrentWriters?: boolean;
}

/**
 * The Store conformance suite: every backend must pass the same tests. Each
 * test gets a fresh, migrated store (its own file or schema), removed after.
 *
 * @example
 * describeStore("sqlite", async () => { … return { store, reopen, close }; });
 */
export function describeStore(name: string, open: OpenTestStore, options: StoreTestOptions = {}): void {
  describe.skipIf(options.skip === true)(`Store conformance: ${name}`, () => {
    let current: TestStore | undefined;
    beforeEach(async () => {
      current = await open();
      await current.store.migrate();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });
    const ctx = () => current!;
    catalogContract(() => ctx().store);
    queueContract(ctx);
    endpointContract(ctx, { concurrentWriters: options.concurrentWriters === true });
    fencingContract(ctx);
    filterContract(ctx);
    triageContract(ctx);
    fifoContract(ctx);
  });
}
