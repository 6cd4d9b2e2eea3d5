import type { StoreLocation } from "../config/config.js";
import { openPostgresStore } from "./postgres/index.js";
import { openSqliteStore } from "./sqlite/index.js";
import type { Store } from "./store.js";

/** Opens the store a configuration names. Call `migrate()` before use. */
export async function openStore(location: StoreLocation): Promise<Store> {
  if (location.kind === "sqlite") return openSqliteStore(location.path);
  return openPostgresStore(location.url);
}
