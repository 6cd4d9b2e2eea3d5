import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type PostgresStore, openPostgresStore } from "../../src/store/postgres/index.js";
import { type Dialect, migrationsDir, migrationsOf, readMigrations } from "../../src/store/sql/migrations.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { tempDir } from "../helpers/herald.js";
import { type TestSchema, freshSchema, postgresAvailable } from "../helpers/postgres.js";

/**
 * The SHA-256 of every shipped migration file. A database records the checksum
 * of each file it applies and refuses to start when that file changes, so a
 * released migration is never edited. If this test fails because a checksum
 * changed, undo the edit and add a new file with the next number instead; a new
 * file adds its line here.
 */
const SHIPPED: Record<Dialect, Record<string, string>> = {
  sqlite: {
    "0001_initial_schema.sql": "83cf4e4463985456077cc78092be11328c7a118709c3ea70cfd73609afa3bc9b",
    "0002_admin_keys_and_operational_events.sql": "b658af80e4eb6db8f30c5b131407c83b74346cb84089f9ec191c8ab1c32ccbf2",
    "0003_lease_generations.sql": "f5e0c73b1b42fec7173614647860c4863f0919a5102481fd6ef0bde364aa2e91",
    "0004_endpoint_enabled_at.sql": "09f77d0c7068ae6d1e96919c1fa366301b7e51409cbf6e7dc5cdd2c3efcc43bc",
    "0005_endpoint_change_epoch.sql": "7d1a2dc48573f7fd1949549a70635161ddab93410cd02679c07cb0e2368dffe5",
    "0006_message_trace_context.sql": "bfbbf3d9845aae4fc8fd34fbda81224511cd2461dd5622482e054d020dc2d873",
    "0007_endpoint_filter.sql": "f5231aba6cb8eeff8fc7fef6880c1a7e42ed17f6ec95dbd1eb24d3e4c3d20b78",
    "0008_fifo_endpoints.sql": "15c7e2487d4d8d558337d2ebddbf85e175cafe95be6722fa190176208056e1ce",
    "0009_endpoint_transformation.sql": "9dd70d6935fdd95e51028d1b78c1bb6efcf4b7c2aa79856d84a85207bf1ce715",
    "0010_application_portal.sql": "7183db81486c791c719edecf48385ed4d2527dc2f2f97ec43fd24dbf572753e6",
  },
  postgres: {
    "0001_initial_schema.sql": "f0fe303d5ec3b358d992b7053093e8302be693d99158704a0e6bb53638ca7def",
    "0002_repair_databases_migrated_by_the_first_form_of_migration_1.sql": "46611469c1acc324a6b490ff7b4b915795871f01536ada6d3106d75e539e6420",
    "0003_lease_generations.sql": "f5e0c73b1b42fec7173614647860c4863f0919a5102481fd6ef0bde364aa2e91",
    "0004_endpoint_enabled_at.sql": "09f77d0c7068ae6d1e96919c1fa366301b7e51409cbf6e7dc5cdd2c3efcc43bc",
    "0005_endpoint_change_epoch.sql": "04111586bd7d914fc7a8fa24043330ee058e3c6ce06f650136d21c363243b9d1",
    "0006_message_trace_context.sql": "bfbbf3d9845aae4fc8fd34fbda81224511cd2461dd5622482e054d020dc2d873",
    "0007_endpoint_filter.sql": "d105ac0d08797d45f38a58a4bce068ed64fdb6a1c7b5b0a2384ce50f91992706",
    "0008_fifo_endpoints.sql": "80e6b9981aa813f4ee2c4002f6f70f170da69fb9c4882259d59cecde3cec45bf",
    "0009_endpoint_transformation.sql": "742cf34dd632e851410665ca75e349ca13a4276bc776691018ea58e4a8537e51",
    "0010_application_portal.sql": "61456030aa1c56212d07327fd56b81048d10b5e977e85eb973c0bf4ae7bf9ffe",
    "0011_partition_deliveries_and_attempts_by_time.sql": "0dd3fd9a67aaa4352434507a1c4d3373f646131416c2290a6a29c187c5e4d5e8",
    "0012_only_pending_deliveries_hold_leases.sql": "dd766cb69b9e59be5f95eb3a1bb718b3eb9f394c6e4bf930ac7758d8cee5a653",
  },
};

/** What `herald_migrations` looked like before checksums, on each store. */
const OLD_MIGRATIONS_TABLE: Record<Dialect, string> = {
  sqlite: "CREATE TABLE herald_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  postgres: "CREATE TABLE herald_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
};

const CHANGED = /^migration 2 \(0002_\w+\.sql\) was changed after this database applied it \(checksum 0{16} recorded, [0-9a-f]{16} now\); migrations are never edited: add a new one$/;
const FROM_NEWER = /^this database has applied migration 99 \(from the future\), which this build of Herald does not have \(its last is 1[02]\)/;

describe("migration files", () => {
  for (const dialect of ["sqlite", "postgres"] as const) {
    it(`${dialect}: the shipped files are exactly the ones released (never edit one: add a new one)`, () => {
      const migrations = migrationsOf(dialect);
      expect(Object.fromEntries(migrations.map((m) => [m.file, m.checksum]))).toEqual(SHIPPED[dialect]);
      expect(migrations.map((m) => m.id)).toEqual(migrations.map((_, i) => i + 1));
      for (const m of migrations) expect(m.sql).toBe(readFileSync(join(migrationsDir(dialect), m.file), "utf8"));
    });
  }

  it("the names recorded before files existed are the files' slugs", () => {
    expect(migrationsOf("sqlite").map((m) => m.name)).toEqual([
      "initial schema",
      "admin keys and operational events",
      "lease generations",
      "endpoint enabled at",
      "endpoint change epoch",
      "message trace context",
      "endpoint filter",
      "fifo endpoints",
      "endpoint transformation",
      "application portal",
    ]);
    expect(migrationsOf("postgres").map((m) => m.name)).toEqual([
      "initial schema",
      "repair databases migrated by the first form of migration 1",
      "lease generations",
      "endpoint enabled at",
      "endpoint change epoch",
      "message trace context",
      "endpoint filter",
      "fifo endpoints",
      "endpoint transformation",
      "application portal",
      "partition deliveries and attempts by time",
      "only pending deliveries hold leases",
    ]);
  });

  describe("a folder the loader refuses", () => {
    let folder: ReturnType<typeof tempDir>;
    beforeEach(() => {
      folder = tempDir();
    });
    afterEach(() => folder.cleanup());
    const write = (files: Record<string, string>) => {
      for (const [name, text] of Object.entries(files)) writeFileSync(join(folder.dir, name), text);
      return folder.dir;
    };

    it("reads NNNN_slug.sql in order and ignores other files", () => {
      const dir = write({ "0002_add_b.sql": "B", "0001_add_a.sql": "A", "README.md": "notes" });
      expect(readMigrations(dir).map((m) => [m.id, m.name, m.sql])).toEqual([
        [1, "add a", "A"],
        [2, "add b", "B"],
      ]);
    });
    it("a gap", () => {
      expect(() => readMigrations(write({ "0001_a.sql": "", "0003_c.sql": "" }))).toThrow(/migration 2 is missing .*0003_c\.sql/);
    });
    it("two files with one number", () => {
      expect(() => readMigrations(write({ "0001_a.sql": "", "0001_b.sql": "" }))).toThrow(/two migrations are numbered 1 \(0001_a\.sql and 0001_b\.sql\)/);
    });
    it("a .sql file not named NNNN_slug.sql", () => {
      expect(() => readMigrations(write({ "0001_a.sql": "", "2_Add B.sql": "" }))).toThrow(/2_Add B\.sql: a migration's file name is NNNN_slug\.sql/);
    });
    it("no files", () => {
      expect(() => readMigrations(folder.dir)).toThrow(/no migration files/);
    });
  });
});

describe("SQLite migrations", () => {
  let folder: ReturnType<typeof tempDir>;
  let path: string;
  beforeEach(() => {
    folder = tempDir();
    path = join(folder.dir, "herald.db");
  });
  afterEach(() => folder.cleanup());

  const migrate = async () => {
    const store = openSqliteStore(path);
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
  };
  const query = <R>(sql: string): R[] => {
    const db = new Database(path);
    try {
      return db.prepare(sql).all() as R[];
    } finally {
      db.close();
    }
  };
  const exec = (sql: string) => {
    const db = new Database(path);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };
  const recorded = () => query<{ id: number; name: string; checksum: string | null }>("SELECT id, name, checksum FROM herald_migrations ORDER BY id");
  const shipped = () => migrationsOf("sqlite").map((m) => ({ id: m.id, name: m.name, checksum: m.checksum }));

  it("records every migration with its file's checksum", async () => {
    await migrate();
    await migrate();
    expect(recorded()).toEqual(shipped());
  });

  it("refuses a database that applied a different form of a migration, and changes nothing", async () => {
    await migrate();
    exec(`UPDATE herald_migrations SET checksum = '${"0".repeat(64)}' WHERE id = 2; UPDATE herald_migrations SET checksum = NULL WHERE id = 1`);
    await expect(migrate()).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(CHANGED) });
    expect(recorded()[0]!.checksum).toBeNull();
  });

  it("refuses a database migrated by a newer Herald", async () => {
    await migrate();
    exec("INSERT INTO herald_migrations (id, name, applied_at, checksum) VALUES (99, 'from the future', 0, 'abc')");
    await expect(migrate()).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(FROM_NEWER) });
  });

  it("upgrades a database from before checksums: records them, keeps the names, applies what is pending", async () => {
    const [first, second] = migrationsOf("sqlite");
    exec(`${OLD_MIGRATIONS_TABLE.sqlite};\n${first!.sql}\n${second!.sql}`);
    exec("INSERT INTO herald_migrations VALUES (1, 'initial schema', 1), (2, 'the old name of 2', 2)");
    await migrate();
    expect(recorded()).toEqual(shipped().map((m) => (m.id === 2 ? { ...m, name: "the old name of 2" } : m)));
    expect(query<{ name: string }>("PRAGMA table_info(deliveries)").map((c) => c.name)).toContain("lease_gen");
  });
});

const available = await postgresAvailable();

describe.skipIf(!available)("PostgreSQL migrations", () => {
  let schema: TestSchema;
  let stores: PostgresStore[];
  beforeEach(() => {
    schema = freshSchema();
    stores = [];
  });
  afterEach(async () => {
    for (const s of stores) await s.close();
    await schema.drop();
  });

  const open = () => {
    const store = openPostgresStore(schema.url);
    stores.push(store);
    return store;
  };
  const recorded = () => schema.query<{ id: number; name: string; checksum: string | null }>("SELECT id, name, checksum FROM herald_migrations ORDER BY id");
  const shipped = () => migrationsOf("postgres").map((m) => ({ id: m.id, name: m.name, checksum: m.checksum }));
  /** A database as Herald left it before checksums: the old table, `sqls` applied, one row each. */
  const oldDatabase = async (sqls: readonly string[]) => {
    await schema.query(`CREATE SCHEMA ${schema.schema}`);
    await schema.query(OLD_MIGRATIONS_TABLE.postgres);
    for (const sql of sqls) await schema.query(sql);
  };

  it("records every migration with its file's checksum", async () => {
    await open().migrate();
    await open().migrate();
    expect(await recorded()).toEqual(shipped());
  });

  it("refuses a database that applied a different form of a migration, and changes nothing", async () => {
    await open().migrate();
    await schema.query(`UPDATE herald_migrations SET checksum = '${"0".repeat(64)}' WHERE id = 2; UPDATE herald_migrations SET checksum = NULL WHERE id = 1`);
    await expect(open().migrate()).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(CHANGED) });
    expect((await recorded())[0]!.checksum).toBeNull();
  });

  it("refuses a database migrated by a newer Herald", async () => {
    await open().migrate();
    await schema.query("INSERT INTO herald_migrations (id, name, applied_at, checksum) VALUES (99, 'from the future', 0, 'abc')");
    await expect(open().migrate()).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(FROM_NEWER) });
  });

  it("upgrades a database from before checksums, once, when four processes start at once", async () => {
    const [first, second] = migrationsOf("postgres");
    await oldDatabase([first!.sql, second!.sql, "INSERT INTO herald_migrations VALUES (1, 'initial schema', 1), (2, 'the old name of 2', 2)"]);
    const many = Array.from({ length: 4 }, open);
    await Promise.all(many.map((s) => s.migrate()));
    expect(await recorded()).toEqual(shipped().map((m) => (m.id === 2 ? { ...m, name: "the old name of 2" } : m)));
    expect(await schema.query("SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'deliveries' AND column_name = 'lease_gen'", [schema.schema])).toHaveLength(1);
  });

  it("migration 2 repairs a database that applied the first form of migration 1", async () => {
    const firstForm = readFileSync(new URL("./fixtures/postgres-0001-first-form.sql", import.meta.url), "utf8");
    await oldDatabase([firstForm, "INSERT INTO herald_migrations VALUES (1, 'initial schema', 1)"]);
    const state = async () => {
      const [row] = await schema.query<{ workers: string | null; leased: string | null; headers: string }>(
        `SELECT to_regclass('workers')::text AS workers, to_regclass('deliveries_leased')::text AS leased,
           (SELECT data_type FROM information_schema.columns
            WHERE table_schema = $1 AND table_name = 'attempts' AND column_name = 'response_headers') AS headers`,
        [schema.schema],
      );
      return row;
    };
    expect(await state()).toEqual({ workers: null, leased: "deliveries_leased", headers: "jsonb" });

    await open().migrate();

    expect(await state()).toEqual({ workers: "workers", leased: null, headers: "json" });
    expect((await recorded()).map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // The row of migration 1 gets the checksum of today's file: what was applied
    // before checksums is taken as released (migration 2 is what repaired it).
    expect(await recorded()).toEqual(shipped());
  });
});
