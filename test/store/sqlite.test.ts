import { join } from "node:path";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";
import { tempDir } from "../helpers/herald.js";
import { describeStore } from "./conformance.js";

describeStore("sqlite", async () => {
  const { dir, cleanup } = tempDir();
  const path = join(dir, "herald.db");
  const store = openSqliteStore(path);
  const others: Store[] = [];
  return {
    store,
    async reopen() {
      const other = openSqliteStore(path);
      others.push(other);
      return other;
    },
    async close() {
      for (const o of others) await o.close();
      await store.close();
      cleanup();
    },
  };
});
