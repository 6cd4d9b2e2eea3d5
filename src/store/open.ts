import type { StoreLocation } from "../config/config.js";
import { HeraldError } from "../core/errors.js";
import { openSqliteStore } from "./sqlite/index.js";
import type { Store } from "./store.js";

/** Opens the store a configuration names. */
export async function openStore(location: StoreLocation): Promise<Store> {
  if (location.kind === "sqlite") return openSqliteStore(location.path);
  throw new HeraldError("invalid_configuration", "HERALD_DATABASE_URL: the PostgreSQL store is not available in this build yet; use sqlite:PATH");
}
