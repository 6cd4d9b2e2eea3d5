import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** One file of the consumer portal, read once and served from memory. */
export interface PortalAsset {
  body: Buffer;
  contentType: string;
  etag: string;
}

const FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "portal.js": "text/javascript; charset=utf-8",
  "portal.css": "text/css; charset=utf-8",
};

/** The page may run its own script and style files and call its own origin; nothing else. */
export const PORTAL_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

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

let cached: ReadonlyMap<string, PortalAsset> | null = null;

/** The portal's files by name; only these names can ever be served. */
export function portalAssets(): ReadonlyMap<string, PortalAsset> {
  if (cached) return cached;
  const dir = staticDir();
  cached = new Map(
    Object.entries(FILES).map(([name, contentType]) => {
      const body = readFileSync(join(dir, name));
      return [name, { body, contentType, etag: `"${createHash("sha256").update(body).digest("base64url")}"` }];
    }),
  );
  return cached;
}
