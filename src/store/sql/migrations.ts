import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HeraldError } from "../../core/errors.js";

/**
 * One forward-only migration: the file `NNNN_slug.sql` in a store's
 * `migrations/` folder (`src/store/sqlite/migrations/0001_initial_schema.sql`).
 * A file is never edited once released: its checksum is recorded by every
 * database that applies it, and a database whose record differs refuses to
 * start (see `planMigrations`). A change is a new file with the next number.
 */
export interface Migration {
  /** The file's number: 1, 2, 3 … without gaps. */
  id: number;
  /** The slug with spaces for underscores (`initial schema`): what `herald_migrations.name` records. */
  name: string;
  /** The file's name, for messages. */
  file: string;
  /** The file's text, run as is. */
  sql: string;
  /** SHA-256 of the file's bytes, lowercase hex. */
  checksum: string;
}

/** A row of `herald_migrations`; `checksum` is null in rows written before checksums were recorded. */
export interface AppliedMigration {
  id: number;
  name: string;
  checksum: string | null;
}

export type Dialect = "sqlite" | "postgres";

const FILE_NAME = /^(\d{4})_([a-z0-9]+(?:_[a-z0-9]+)*)\.sql$/;

const sha256 = (bytes: Buffer): string => createHash("sha256").update(bytes).digest("hex");

/**
 * Reads a folder of migration files, sorted by id. Every `.sql` file in it is a
 * migration: a name that is not `NNNN_slug.sql` (lowercase slug), or ids that are
 * not exactly 1..n, is an error rather than a file silently skipped.
 *
 * @example readMigrations("src/store/sqlite/migrations") // [{ id: 1, name: "initial schema", … }, …]
 */
export function readMigrations(dir: string): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .map((file): Migration => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new Error(`${join(dir, file)}: a migration's file name is NNNN_slug.sql, e.g. 0004_add_widgets.sql`);
      const bytes = readFileSync(join(dir, file));
      return { id: Number(match[1]), name: match[2]!.replaceAll("_", " "), file, sql: bytes.toString("utf8"), checksum: sha256(bytes) };
    })
    .sort((a, b) => a.id - b.id);
  if (migrations.length === 0) throw new Error(`${dir}: no migration files`);
  migrations.forEach((m, i) => {
    if (m.id === i + 1) return;
    const previous = migrations[i - 1];
    if (previous && previous.id === m.id) throw new Error(`${dir}: two migrations are numbered ${m.id} (${previous.file} and ${m.file})`);
    throw new Error(`${dir}: migration ${i + 1} is missing (ids run 1, 2, 3 … without gaps; found ${m.file})`);
  });
  return migrations;
}

/**
 * A store's migrations folder. The `.sql` files are not emitted by `tsc`:
 * `npm run build` copies them next to the compiled store
 * (`scripts/copy-assets.mjs`), so from `dist/store/sql/` the first candidate
 * is `dist/store/<dialect>/migrations/`, and from `src/store/sql/` (tests) it is
 * the source folder. The second candidate is the source folder seen from
 * `dist/`, for a build made by `tsc` alone.
 */
export function migrationsDir(dialect: Dialect): string {
  const candidates = [
    new URL(`../${dialect}/migrations/`, import.meta.url),
    new URL(`../../../src/store/${dialect}/migrations/`, import.meta.url),
  ].map((u) => fileURLToPath(u));
  const found = candidates.find((dir) => existsSync(dir));
  if (!found) throw new Error(`${dialect} migration files not found; looked in ${candidates.join(" and ")} (run npm run build)`);
  return found;
}

const loaded = new Map<Dialect, readonly Migration[]>();

/** A store's migrations, read once per process. */
export function migrationsOf(dialect: Dialect): readonly Migration[] {
  let migrations = loaded.get(dialect);
  if (!migrations) {
    migrations = readMigrations(migrationsDir(dialect));
    loaded.set(dialect, migrations);
  }
  return migrations;
}

/**
 * What migrating a database means, from the rows it has recorded: the files
 * to apply (in order) and the applied ones whose row has no checksum yet
 * (recorded before checksums were), which get their file's checksum. Names are
 * not compared: a row keeps the name it was recorded with.
 *
 * @throws HeraldError `conflict` when an applied migration's file was edited
 * since (its recorded checksum differs), or when the database has applied a
 * migration this build does not have (a newer Herald migrated it). Either way
 * nothing is changed: the store runs this inside its migration transaction.
 */
export function planMigrations(
  applied: readonly AppliedMigration[],
  migrations: readonly Migration[],
): { pending: Migration[]; unrecorded: Migration[] } {
  const byId = new Map(migrations.map((m) => [m.id, m]));
  const unrecorded: Migration[] = [];
  for (const row of applied) {
    const m = byId.get(row.id);
    if (!m) {
      throw new HeraldError(
        "conflict",
        `this database has applied migration ${row.id} (${row.name}), which this build of Herald does not have (its last is ${migrations.length}): a newer Herald migrated it; run that version or a later one`,
      );
    }
    if (row.checksum === null) unrecorded.push(m);
    else if (row.checksum !== m.checksum) {
      throw new HeraldError(
        "conflict",
        `migration ${m.id} (${m.file}) was changed after this database applied it (checksum ${short(row.checksum)} recorded, ${short(m.checksum)} now); migrations are never edited: add a new one`,
      );
    }
  }
  const done = new Set(applied.map((row) => row.id));
  return { pending: migrations.filter((m) => !done.has(m.id)), unrecorded };
}

const short = (checksum: string): string => checksum.slice(0, 16);
