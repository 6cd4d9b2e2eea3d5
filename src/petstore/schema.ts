import type Database from "better-sqlite3";

/**
 * The Pet Store's own tables, in Herald's SQLite database (so that a change and
 * the event it publishes commit in one transaction). Forward-only, numbered,
 * recorded in their own table beside Herald's migrations.
 */
const MIGRATIONS: readonly { id: number; sql: string }[] = [
  {
    id: 1,
    sql: `
CREATE TABLE petstore_pets (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  species TEXT NOT NULL,
  status TEXT NOT NULL,
  owner_id TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE petstore_users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  phone TEXT,
  city TEXT,
  address TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE petstore_products (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  sku TEXT NOT NULL UNIQUE,
  price TEXT NOT NULL,
  currency TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE petstore_orders (
  id TEXT PRIMARY KEY,
  reference TEXT NOT NULL UNIQUE,
  pet_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  fulfilment_status TEXT NOT NULL,
  total_amount TEXT NOT NULL,
  currency TEXT NOT NULL,
  items TEXT NOT NULL DEFAULT '[]',
  tracking_number TEXT,
  delivery_notes TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE petstore_payments (
  id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  amount TEXT NOT NULL,
  currency TEXT NOT NULL,
  status TEXT NOT NULL,
  card_last4 TEXT NOT NULL,
  card_brand TEXT NOT NULL,
  error_code TEXT,
  created_at TEXT NOT NULL
);
`,
  },
  {
    // Order references come from a sequence: deleting an order must not let a later one reuse its
    // reference (seed 003's receivers deduplicate on reference + new_status).
    id: 2,
    sql: `
CREATE TABLE petstore_sequences (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO petstore_sequences (name, value) SELECT 'order_reference', COUNT(*) FROM petstore_orders;
`,
  },
];

export function migratePetstore(db: Database.Database): void {
  db.exec("CREATE TABLE IF NOT EXISTS petstore_migrations (id INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
  db.transaction(() => {
    const applied = new Set((db.prepare("SELECT id FROM petstore_migrations").all() as { id: number }[]).map((r) => r.id));
    for (const m of MIGRATIONS) {
      if (applied.has(m.id)) continue;
      db.exec(m.sql);
      db.prepare("INSERT INTO petstore_migrations (id, applied_at) VALUES (?, ?)").run(m.id, new Date().toISOString());
    }
  }).immediate();
}
