// @ts-check
// The application's portal theme (`portal` on the application): its name,
// logo and accent colours. Colours are set as CSS custom properties (the CSP
// allows no inline style, but the CSSOM is fine); portal.css uses them for
// light and dark mode.

const COLOR = /^#[0-9a-fA-F]{6}$/;

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
  if (theme.accentColor && COLOR.test(theme.accentColor)) root.setProperty("--brand", theme.accentColor);
  if (theme.accentColorDark && COLOR.test(theme.accentColorDark)) root.setProperty("--brand-dark", theme.accentColorDark);
  /** @type {HTMLElement} */ (document.getElementById("topbar")).hidden = false;
}
