import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The dashboard's scripts are plain ES modules with no build step, checked by
 * TypeScript through `// @ts-check` and `src/dashboard/jsconfig.json`.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));
const staticDir = join(root, "src/dashboard/static");
const scripts = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? scripts(join(dir, e.name)) : e.name.endsWith(".js") ? [join(dir, e.name)] : []));

describe("the dashboard's browser scripts", () => {
  it("each starts with // @ts-check", () => {
    for (const file of scripts(staticDir)) expect(readFileSync(file, "utf8").split("\n")[0], file).toBe("// @ts-check");
  });

  it("type-check with tsc (src/dashboard/jsconfig.json)", () => {
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const run = spawnSync(process.execPath, [tsc, "-p", join(root, "src/dashboard/jsconfig.json")], { encoding: "utf8" });
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  }, 60_000);
});
