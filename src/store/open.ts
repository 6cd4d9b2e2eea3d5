import { openPostgresStore } from "./postgres/index.js";
import { openSqliteStore } from "./sqlite/index.js";
import type { Store } from "./store.js";

/** Where a store lives: `HERALD_DATABASE_URL`, parsed (`src/config`). */
export type StoreLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/** Opens the store a configuration names. Call `migrate()` before use. */
export async function openStore(location: StoreLocation): Promise<Store> {
  if (location.kind === "sqlite") return openSqliteStore(location.path);
  return openPostgresStore(location.url);
}
