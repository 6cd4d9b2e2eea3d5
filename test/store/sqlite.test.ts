import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/herald.js";
import { describeStore } from "./conformance.js";
import type { EndpointTestStore } from "./endpoint-contract.js";
import { sqliteRawAccess } from "./raw-access.js";

describeStore("sqlite", async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, "herald.db");
  const store = openSqliteStore(path);
  const others: Store[] = [];
  const t: EndpointTestStore = {
    store,
    async reopen() {
      const other = openSqliteStore(path);
      others.push(other);
      return other;
    },
    raw: sqliteRawAccess(path),
    async close() {
      for (const o of others) await o.close();
      await store.close();
      cleanup();
    },
  };
  return t;
});
