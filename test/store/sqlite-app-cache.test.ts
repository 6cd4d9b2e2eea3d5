import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import type { ApplicationId } from "../../src/core/ids.js";
import { SqliteStore } from "../../src/store/sqlite/index.js";
import { sleep } from "../helpers/herald.js";
import { app } from "./fixtures.js";

/**
 * The SQLite store remembers applications between lookups (the publish path
 * reads one per request). What it returns must still be what is stored: after
 * its own writes at once, after another process's from the next turn of the
 * event loop on.
 */

let dir: string;
let store: SqliteStore;
let other: SqliteStore; // another process on the same file

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "herald-app-cache-"));
  store = new SqliteStore(join(dir, "herald.db"));
  await store.migrate();
  other = new SqliteStore(join(dir, "herald.db"));
});

afterEach(async () => {
  await other.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const turn = () => sleep(5);

it("sees its own renames, creations and deletions at once", async () => {
  const a = await app(store, { uid: "shop", name: "Shop" });
  expect((await store.getApplication("shop"))?.name).toBe("Shop");
  expect(await store.getApplication("billing")).toBeNull();

  await store.updateApplication(a.id, { name: "Shop 2" }, Date.now());
  expect((await store.getApplication("shop"))?.name).toBe("Shop 2");
  expect((await store.getApplication(a.id))?.name).toBe("Shop 2");

  await app(store, { id: "app_01BILLING000000000000000000" as ApplicationId, uid: "billing", name: "Billing" });
  expect((await store.getApplication("billing"))?.name).toBe("Billing");

  await store.deleteApplication(a.id);
  expect(await store.getApplication("shop")).toBeNull();
});

it("sees another process's changes from the next turn of the event loop", async () => {
  const a = await app(store, { uid: "shop", name: "Shop" });
  expect((await store.getApplication("shop"))?.name).toBe("Shop");

  await other.updateApplication(a.id, { name: "Renamed elsewhere" }, Date.now());
  await turn();
  expect((await store.getApplication("shop"))?.name).toBe("Renamed elsewhere");

  await other.deleteApplication(a.id);
  await turn();
  expect(await store.getApplication("shop")).toBeNull();
  expect(await store.getApplication(a.id)).toBeNull();
});

it("returns a copy: a caller that changes it does not change what the next one reads", async () => {
  await app(store, { uid: "shop", name: "Shop", metadata: { tier: "gold" } });
  const first = (await store.getApplication("shop"))!;
  first.name = "changed";
  first.metadata.tier = "changed";
  const second = (await store.getApplication("shop"))!;
  expect(second.name).toBe("Shop");
  expect(second.metadata).toEqual({ tier: "gold" });
});
