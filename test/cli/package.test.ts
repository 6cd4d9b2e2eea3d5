import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/herald.js";
import { spawnHerald } from "../helpers/process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const npm = (args: string[], cwd: string) =>
  execFileSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" }, stdio: ["ignore", "pipe", "pipe"] });

/**
 * The `herald` package as a user installs it (issue 9, contract §10): its
 * `npm pack` tarball, installed globally into a fresh prefix with no path
 * back into the repository, runs `herald` from any folder and carries what it
 * reads at run time (migrations, the dashboard's and the portal's files, the
 * bundled herald-receiver).
 *
 * One shortcut: the install skips install scripts, and the SQLite driver's
 * native addon is copied in from this checkout's build, because compiling
 * better-sqlite3 from source takes minutes on this machine and proves nothing
 * about Herald's package.
 */
describe("the herald package", () => {
  const work = tempDir();
  let files: string[] = [];
  let tarball = "";
  let prefix = "";
  let installed = "";

  beforeAll(() => {
    const [packed] = JSON.parse(npm(["pack", "--json", "--pack-destination", work.dir], ROOT)) as { filename: string; files: { path: string }[] }[];
    tarball = join(work.dir, packed!.filename);
    files = packed!.files.map((f) => f.path);
    prefix = join(work.dir, "global");
    npm(["install", "--global", "--prefix", prefix, tarball, "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], work.dir);
    installed = join(prefix, "lib", "node_modules", "herald");
    const addon = join("node_modules", "better-sqlite3", "build", "Release", "better_sqlite3.node");
    mkdirSync(join(installed, addon, ".."), { recursive: true });
    copyFileSync(join(ROOT, addon), join(installed, addon));
  }, 180_000);
  afterAll(() => work.cleanup());

  it("packs what it runs and nothing of the repository's sources or tests", () => {
    for (const needed of [
      "bin/herald.js",
      "dist/cli/main.js",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/store/sqlite/migrations/0001_initial_schema.sql",
      "dist/store/postgres/migrations/0001_initial_schema.sql",
      "dist/dashboard/static/app.js",
      "dist/api/portal/static/index.html",
      "node_modules/herald-receiver/package.json",
      "node_modules/herald-receiver/dist/esm/index.js",
    ]) {
      expect(files, needed).toContain(needed);
    }
    expect(files.filter((f) => /^(src|test|bench|packages|docs|scripts)\//.test(f))).toEqual([]);
  });

  it("runs `herald --version` from any folder", () => {
    const { dir, cleanup } = tempDir();
    try {
      const out = execFileSync(join(prefix, "bin", "herald"), ["--version"], { cwd: dir, encoding: "utf8" });
      expect(out.trim()).toBe(JSON.parse(execFileSync("node", ["-p", "JSON.stringify(require('./package.json').version)"], { cwd: ROOT, encoding: "utf8" })));
    } finally {
      cleanup();
    }
  });

  it("serves the API, the dashboard and the portal from the installed package, migrating a new database", async () => {
    const { dir, cleanup } = tempDir();
    const p = spawnHerald(["serve"], { HERALD_DATABASE_URL: `sqlite:${join(dir, "herald.db")}`, HERALD_PORT: "0" }, dir, join(installed, "bin", "herald.js"));
    try {
      const [, url] = await p.waitFor(/listening on (http:\/\/\S+)/, 20_000);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const dashboard = await fetch(`${url}/`);
      expect(dashboard.status).toBe(200);
      expect(await dashboard.text()).toContain("<html");
      expect((await fetch(`${url}/portal`)).status).toBe(200);
      expect(existsSync(join(dir, "herald.db"))).toBe(true);
    } finally {
      p.child.kill("SIGKILL");
      await p.exited;
      cleanup();
    }
  });

  it("keeps `herald/receiver` working through the bundled herald-receiver", () => {
    const out = execFileSync("node", ["--input-type=module", "-e", "const r = await import('herald/receiver'); console.log(typeof r.verifyWebhook)"], {
      cwd: installed,
      encoding: "utf8",
    });
    expect(out.trim()).toBe("function");
  });
});
