// Builds a workspace package (herald-client, herald-receiver) twice from the
// same sources: ESM into dist/esm (the packages are "type": "module") and
// CommonJS into dist/cjs, which gets a package.json of its own saying so.
// Declarations go beside each. Plain Node, no shell: runs the same on every
// platform. Usage: node scripts/build-package.mjs <package folder> (default:
// the current folder, which is the package's when npm runs its build script).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";

const root = resolve(process.argv[2] ?? ".");
// TypeScript is the workspace root's dev dependency (hoisted).
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

rmSync(join(root, "dist"), { recursive: true, force: true });
for (const config of ["tsconfig.json", "tsconfig.cjs.json"]) {
  execFileSync(process.execPath, [tsc, "-p", join(root, config)], { stdio: "inherit" });
}
mkdirSync(join(root, "dist", "cjs"), { recursive: true });
writeFileSync(join(root, "dist", "cjs", "package.json"), `${JSON.stringify({ type: "commonjs" })}\n`);
