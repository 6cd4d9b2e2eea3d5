import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** One static file of the dashboard, read once and served from memory. */
export interface Asset {
  body: Buffer;
  contentType: string;
  /** Strong validator: the SHA-256 of the body, quoted. */
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/**
 * Where the static files are. They live in `src/dashboard/static/` and are not
 * copied by `tsc`, so from `dist/dashboard/` they are found two levels up, in
 * `src/`: a path that exists both when the TypeScript runs directly (tests) and
 * when the build does (`npm start`).
 */
function staticDir(): string {
  const candidates = [new URL("./static/", import.meta.url), new URL("../../src/dashboard/static/", import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (!found) throw new Error(`dashboard files not found; looked in ${candidates.join(" and ")}`);
  return found;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

let cached: ReadonlyMap<string, Asset> | null = null;

/**
 * Every dashboard file by its path relative to the static folder (`app.js`,
 * `views/endpoint.js`), loaded on first use and kept for the process's life.
 * Only known file types are included, so a request can only ever get one of
 * these, never an arbitrary path.
 */
export function dashboardAssets(): ReadonlyMap<string, Asset> {
  if (cached) return cached;
  const dir = staticDir();
  const assets = new Map<string, Asset>();
  for (const file of walk(dir)) {
    const contentType = CONTENT_TYPES[extname(file)];
    if (!contentType) continue;
    const body = readFileSync(file);
    const etag = `"${createHash("sha256").update(body).digest("base64url")}"`;
    assets.set(relative(dir, file).split(sep).join("/"), { body, contentType, etag });
  }
  cached = assets;
  return assets;
}
