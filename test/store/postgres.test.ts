import { openPostgresStore } from "../../src/store/postgres/index.js";
import type { Store } from "../../src/store/store.js";
import { freshSchema, postgresAvailable } from "../helpers/postgres.js";
import { describeStore } from "./conformance.js";
import type { EndpointTestStore } from "./endpoint-contract.js";
import { postgresRawAccess } from "./raw-access.js";

const available = await postgresAvailable();

describeStore(
  "postgres",
  async () => {
    const schema = freshSchema();
    const store = openPostgresStore(schema.url);
    const others: Store[] = [];
    const t: EndpointTestStore = {
      store,
      async reopen() {
        const other = openPostgresStore(schema.url);
        others.push(other);
        return other;
      },
      raw: postgresRawAccess(schema),
      async close() {
        for (const o of others) await o.close();
        await store.close();
        await schema.drop();
      },
    };
    return t;
  },
  { skip: !available, concurrentWriters: true },
);
