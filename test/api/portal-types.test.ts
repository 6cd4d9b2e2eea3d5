import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

/**
 * The portal's scripts are plain ES modules with no build step, checked by
 * TypeScript through `// @ts-check` and `src/api/portal/jsconfig.json`, which
 * maps the dashboard's shared modules (`/dashboard/dom.js` …) to their sources:
 * a change there that breaks the portal fails here.
 */

const root = fileURLToPath(new URL("../../", import.meta.url));

it("the portal's browser scripts type-check with tsc (src/api/portal/jsconfig.json), the dashboard's shared modules included", () => {
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const config = join(root, "src/api/portal/jsconfig.json");
  const run = spawnSync(process.execPath, [tsc, "-p", config], { encoding: "utf8" });
  expect(run.stdout + run.stderr).toBe("");
  expect(run.status).toBe(0);
  const files = spawnSync(process.execPath, [tsc, "-p", config, "--listFilesOnly"], { encoding: "utf8" }).stdout;
  expect(files).toContain("src/dashboard/static/dom.js");
  expect(files).toContain("src/api/portal/static/views/endpoint.js");
}, 60_000);
