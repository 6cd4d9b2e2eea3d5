// Copies what `tsc` does not emit into dist/, after it: each store's migration
// files (src/store/<dialect>/migrations/*.sql → dist/store/<dialect>/migrations/),
// where src/store/sql/migrations.ts looks for them first, the transformation
// sandbox's thread (src/transform/sandbox-worker.mjs), and the static files
// of the dashboard and the consumer portal (served from dist/ first, src/ in a
// checkout): the published package carries dist/ and nothing of src/. The target folders are
// emptied first, so dist/ holds exactly the source's files. Plain Node, no shell
// globs: runs the same on every platform.
import { copyFileSync, cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

for (const dialect of ["sqlite", "postgres"]) {
  const from = join(root, "src", "store", dialect, "migrations");
  const to = join(root, "dist", "store", dialect, "migrations");
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  const files = readdirSync(from).filter((file) => file.endsWith(".sql"));
  for (const file of files) copyFileSync(join(from, file), join(to, file));
}

// The transformation sandbox's thread is plain JavaScript loaded by path (src/transform/pool.ts).
mkdirSync(join(root, "dist", "transform"), { recursive: true });
copyFileSync(join(root, "src", "transform", "sandbox-worker.mjs"), join(root, "dist", "transform", "sandbox-worker.mjs"));

// The SQLite checkpointer's thread, loaded by path the same way (src/store/sqlite/checkpointer.ts).
copyFileSync(join(root, "src", "store", "sqlite", "checkpoint-worker.mjs"), join(root, "dist", "store", "sqlite", "checkpoint-worker.mjs"));

for (const part of [["dashboard", "static"], ["api", "portal", "static"]]) {
  const to = join(root, "dist", ...part);
  rmSync(to, { recursive: true, force: true });
  cpSync(join(root, "src", ...part), to, { recursive: true });
}
