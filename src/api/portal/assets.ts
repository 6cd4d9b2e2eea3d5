import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** One file of the consumer portal, read once and served from memory. */
export interface PortalAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/**
 * The files live in `src/api/portal/static/` and are not copied by `tsc`: from
 * `dist/api/portal/` they are found three levels up, in `src/`.
 */
function staticDir(): string {
  const candidates = [new URL("./static/", import.meta.url), new URL("../../../src/api/portal/static/", import.meta.url)].map((u) => fileURLToPath(u));
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (!found) throw new Error(`portal files not found; looked in ${candidates.join(" and ")}`);
  return found;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]));
}

let cached: ReadonlyMap<string, PortalAsset> | null = null;

/**
 * The portal's files by their path under the static folder (`portal.js`,
 * `views/endpoint.js`); only files of these types are included, so a request
 * can only ever get one of them. The portal also loads the dashboard's shared
 * `dom.js`, `api.js` and `app.css` from `/dashboard/` (one copy of each).
 */
export function portalAssets(): ReadonlyMap<string, PortalAsset> {
  if (cached) return cached;
  const dir = staticDir();
  const assets = new Map<string, PortalAsset>();
  for (const file of walk(dir)) {
    const contentType = CONTENT_TYPES[extname(file)];
    if (!contentType) continue;
    const body = readFileSync(file);
    assets.set(relative(dir, file).split(sep).join("/"), { body, contentType, etag: `"${createHash("sha256").update(body).digest("base64url")}"` });
  }
  cached = assets;
  return assets;
}
