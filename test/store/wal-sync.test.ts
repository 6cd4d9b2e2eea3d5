import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { WalSync } from "../../src/store/sqlite/wal-sync.js";

/**
 * The SQLite store answers publishes after `WalSync.sync()`: each caller must
 * wait for an fdatasync that started after its call (its commit came before
 * the call), and callers that arrive together must share one.
 */

let dir: string;
let wal: WalSync;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "herald-wal-sync-"));
  writeFileSync(join(dir, "herald.db-wal"), "frames");
  wal = new WalSync(join(dir, "herald.db-wal"));
});

afterEach(async () => {
  await wal.close();
  rmSync(dir, { recursive: true, force: true });
});

it("shares one fdatasync among callers that arrive while another runs", async () => {
  const first = wal.sync(); // starts one at once
  const waiting = Array.from({ length: 50 }, () => wal.sync()); // arrived during it: one more, shared
  await Promise.all([first, ...waiting]);
  expect(wal.started).toBe(2);
});

it("never lets a caller settle for a sync that started before its call", async () => {
  const order: string[] = [];
  const first = wal.sync().then(() => order.push("first"));
  const second = wal.sync().then(() => order.push("second")); // called while the first runs
  await Promise.all([first, second]);
  expect(order).toEqual(["first", "second"]);
  expect(wal.started).toBe(2);

  await wal.sync(); // nothing running: one of its own
  expect(wal.started).toBe(3);
});

it("closes only after the syncs under way have finished", async () => {
  const pending = wal.sync();
  await wal.close();
  await expect(pending).resolves.toBeUndefined();
});
