import type { FastifyInstance } from "fastify";
import type { Api } from "../api/validation.js";
import { HeraldError } from "../core/errors.js";
import { newId } from "../core/ids.js";
import type { Herald } from "../herald.js";
import type { PetstoreContext } from "./context.js";
import { type EventTypeSpec, PETSTORE_EVENT_TYPES } from "./events.js";
import { tables } from "./repo.js";
import { orderRoutes } from "./routes/orders.js";
import { catalogRoutes } from "./routes/pets.js";
import { migratePetstore } from "./schema.js";

/** The application whose endpoints receive the store's events. */
export const PETSTORE_APP_UID = "petstore";

/**
 * The seeds' Pet Store as a reference producer: its tables live in Herald's
 * own SQLite database, and every change publishes its event through Herald's
 * transactional outbox in the same transaction: an event exists if and only
 * if its change committed. Mounted at `/store/v1` by `herald serve --petstore`
 * (`npm run petstore`).
 */
export async function mountPetstore(app: FastifyInstance, herald: Herald, prefix = "/store/v1"): Promise<PetstoreContext> {
  if (herald.store.kind !== "sqlite") {
    throw new HeraldError("invalid_configuration", "the Pet Store runs on the SQLite store only (it shares Herald's database file)");
  }
  const ctx = await preparePetstore(herald);
  await app.register(
    async (api) => {
      // Listed in /openapi.json under their own tag, apart from Herald's management API.
      api.addHook("onRoute", (route) => {
        route.schema = { ...route.schema, tags: ["Pet Store (reference producer)"] };
      });
      catalogRoutes(api as unknown as Api, ctx);
      orderRoutes(api as unknown as Api, ctx);
    },
    { prefix },
  );
  return ctx;
}

/** Creates the store's tables, its application and its catalog entries (idempotent). */
export async function preparePetstore(herald: Herald): Promise<PetstoreContext> {
  const db = herald.sqliteHandle();
  migratePetstore(db);
  if (!(await herald.store.getApplication(PETSTORE_APP_UID))) {
    await herald.createApplication({ name: "Pet Store", uid: PETSTORE_APP_UID }).catch((err: unknown) => {
      if (!(err instanceof HeraldError && err.code === "conflict")) throw err;
    });
  }
  for (const type of PETSTORE_EVENT_TYPES) await registerEventType(herald, type);
  return {
    db,
    tables: tables(db),
    transaction: (fn) =>
      herald.transaction((tx) => fn((event) => tx.publish({ app: PETSTORE_APP_UID, eventType: event.type, payload: event.payload }))),
  };
}

/**
 * Adds the store's event type to the catalog, or brings an entry written by an
 * earlier version up to date: the store owns these types, and its payloads must
 * pass the schema the outbox checks them against.
 */
async function registerEventType(herald: Herald, type: EventTypeSpec): Promise<void> {
  const wanted = { description: type.description, schema: type.schema, examples: type.examples };
  const stored = await herald.store.getEventType(type.name);
  const now = Date.now();
  if (stored) {
    const current = { description: stored.description, schema: stored.schema, examples: stored.examples };
    if (JSON.stringify(current) === JSON.stringify(wanted)) return;
    await herald.store.updateEventType(type.name, wanted, now);
    herald.catalog.invalidate(type.name);
    return;
  }
  await herald.store.createEventType({ id: newId("evt", now), name: type.name, ...wanted, archived: false, createdAt: now, updatedAt: now }).catch((err: unknown) => {
    if (!(err instanceof HeraldError && err.code === "conflict")) throw err;
  });
}
