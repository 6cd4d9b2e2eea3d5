// @ts-check
// The application's portal theme (`portal` on the application): its name,
// logo and accent colours. Colours are set as CSS custom properties (the CSP
// allows no inline style, but the CSSOM is fine); portal.css uses them for
// light and dark mode.

const COLOR = /^#[0-9a-fA-F]{6}$/;

/** Black or white, whichever reads better on `hex` (WCAG relative luminance). @param {string} hex */
function textOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance = 0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0);
  // Contrast with white (1.05 / (L + 0.05)) against contrast with black ((L + 0.05) / 0.05).
  return 1.05 / (luminance + 0.05) >= (luminance + 0.05) / 0.05 ? "#ffffff" : "#111111";
}

/**
 * @param {{name: string, portal?: {name?: string, logoUrl?: string, accentColor?: string, accentColorDark?: string} | null}} app
 */
export function applyTheme(app) {
  const theme = app.portal ?? {};
  const title = theme.name ?? app.name;
  document.title = `Webhooks · ${title}`;
  const name = /** @type {HTMLElement} */ (document.getElementById("app-name"));
  name.textContent = title;
  const logo = /** @type {HTMLImageElement} */ (document.getElementById("logo"));
  if (theme.logoUrl) {
    logo.src = theme.logoUrl;
    logo.hidden = false;
  }
  const root = document.documentElement.style;
  if (theme.accentColor && COLOR.test(theme.accentColor)) {
    root.setProperty("--brand", theme.accentColor);
    root.setProperty("--on-brand", textOn(theme.accentColor));
  }
  if (theme.accentColorDark && COLOR.test(theme.accentColorDark)) {
    root.setProperty("--brand-dark", theme.accentColorDark);
    root.setProperty("--on-brand-dark", textOn(theme.accentColorDark));
  }
  /** @type {HTMLElement} */ (document.getElementById("topbar")).hidden = false;
}
