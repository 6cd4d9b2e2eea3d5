import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";

/** The files under `dir`, at any depth, whose path matches `ext`. */
export function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => ext.test(path) && statSync(path).isFile());
}

/** The environment for the npm and node children, without what `npm test` exported (npm_config_* …) into ours. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
}

/** A workspace package packed and installed: the temporary folder (the caller removes it), the consumer project in it, what `npm pack` reported. */
export interface PackedInstall {
  work: string;
  project: string;
  packed: { filename: string; files: { path: string }[] };
}

/**
 * Packs the workspace package in `dir` (packages/<name>) with `npm pack` and
 * installs the tarball offline into an empty project, as a user gets it.
 */
export function packAndInstall(dir: string): PackedInstall {
  const name = basename(dir);
  // The tarball packs the build that `npm test` (npm run build) made; a stale one would test old code.
  const built = filesUnder(join(dir, "dist"), /\.js$/);
  const newestSource = Math.max(...filesUnder(join(dir, "src"), /\.ts$/).map((f) => statSync(f).mtimeMs));
  if (built.length === 0 || Math.min(...built.map((f) => statSync(f).mtimeMs)) < newestSource) {
    throw new Error(`packages/${name}/dist is missing or older than its sources: run \`npm run build\` first`);
  }
  const work = mkdtempSync(join(tmpdir(), `${name}-pack-`));
  const env = cleanEnv();
  const out = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], { cwd: dir, env, encoding: "utf8" });
  const packed = JSON.parse(out)[0];
  // An empty project: its own package.json, nothing above it that npm could take for a workspace.
  const project = join(work, "consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
  execFileSync("npm", ["install", join(work, packed.filename), "--offline", "--no-audit", "--no-fund"], { cwd: project, env, stdio: "pipe" });
  return { work, project, packed };
}
