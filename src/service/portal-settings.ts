import { Type } from "@sinclair/typebox";
import { invalid } from "../core/errors.js";
import { Strict } from "../core/schemas.js";
import type { PortalSettings as Settings } from "../store/model.js";

/**
 * An application's consumer-portal settings (`portal` on the application):
 * its theme and the origins that may embed it. Every value ends up in a CSP
 * header or a CSS custom property, so each is held to a shape that cannot
 * carry anything else (no spaces, quotes, semicolons or `url(`).
 */

/** `https://example.com`, `https://*.example.com:8443`, `http://localhost:3000`: a CSP host-source with a scheme. */
const ORIGIN = "^https?://(\\*\\.)?[a-z0-9-]+(\\.[a-z0-9-]+)*(:[0-9]{1,5})?$";
const COLOR = "^#[0-9a-fA-F]{6}$";
/** An `https:` URL without characters that would end a CSP source or an HTML attribute. */
const HTTPS_URL = "^https://[^\\s\"'<>;,()\\\\]+$";
const DATA_IMAGE = "^data:image/(png|jpeg|gif|webp|svg\\+xml);base64,[A-Za-z0-9+/]+={0,2}$";

/** At most this many origins may embed one application's portal. */
export const MAX_FRAME_ANCESTORS = 20;
/** A `data:` logo is stored in the application row: kept small. */
const MAX_LOGO_CHARS = 64 * 1024;

const Color = (what: string) => Type.String({ pattern: COLOR, description: `${what}: \`#rrggbb\`` });

export const PortalSettings = Strict({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "the title the portal shows (default: the application's name)" })),
  logoUrl: Type.Optional(
    Type.Union([Type.String({ pattern: HTTPS_URL, maxLength: 2048 }), Type.String({ pattern: DATA_IMAGE, maxLength: MAX_LOGO_CHARS })], {
      description:
        "shown beside the name: an `https:` URL (at most 2,048 characters) or a " +
        "`data:image/{png|jpeg|gif|webp|svg+xml};base64,…` URL (at most 64 KiB)",
    }),
  ),
  accentColor: Type.Optional(Color("buttons, links and focus rings in light mode")),
  accentColorDark: Type.Optional(Color("the same in dark mode (default: `accentColor`)")),
  frameAncestors: Type.Optional(
    Type.Array(Type.String({ pattern: ORIGIN, maxLength: 300 }), {
      maxItems: MAX_FRAME_ANCESTORS,
      uniqueItems: true,
      description:
        "origins allowed to embed the portal in a frame: its CSP `frame-ancestors` (lowercase `https://host[:port]`, " +
        "`https://*.host`; `http:` for development). Empty or absent: the portal refuses to be framed.",
    }),
  ),
});

/**
 * The checks a pattern cannot make: a logo URL must parse (its origin goes into
 * the page's `img-src`). Returns the settings as they are stored; `{}` becomes null.
 */
export function checkPortalSettings(settings: Settings | null | undefined, path: string): Settings | null | undefined {
  if (!settings) return settings;
  if (settings.logoUrl?.startsWith("https:")) {
    try {
      new URL(settings.logoUrl);
    } catch {
      throw invalid(`${path}/logoUrl`, "is not a valid URL");
    }
  }
  return Object.keys(settings).length === 0 ? null : settings;
}
