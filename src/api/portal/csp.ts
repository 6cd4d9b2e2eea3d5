import type { PortalSettings } from "../../store/model.js";

/**
 * The portal page's Content-Security-Policy: its own scripts and styles only,
 * calls to its own origin only, and framing only by the origins the
 * application allows (`portal.frameAncestors`; none: `'none'`). Images: its
 * own, plus the application's logo (its origin, or `data:` for an inline one).
 *
 * @example
 * portalCsp({ frameAncestors: ["https://app.example.com"] })
 * // "default-src 'none'; … frame-ancestors https://app.example.com"
 */
export function portalCsp(settings: PortalSettings | null | undefined): string {
  const images = ["'self'"];
  const logo = settings?.logoUrl;
  if (logo?.startsWith("data:")) images.push("data:");
  else if (logo) images.push(new URL(logo).origin);
  const ancestors = settings?.frameAncestors?.length ? settings.frameAncestors.join(" ") : "'none'";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    `img-src ${images.join(" ")}`,
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors}`,
  ].join("; ");
}
