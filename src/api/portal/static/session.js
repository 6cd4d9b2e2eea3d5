// @ts-check
// The portal token: it arrives in the URL fragment (`#token=hpt_…`, never
// sent to a server), is moved to sessionStorage and removed from the address
// bar. Every API call carries it; the application it acts for is in its claims.

import { answer, send } from "/dashboard/api.js";

const KEY = "herald-portal-token";

/** The token from the fragment (then stored) or from this tab's storage; null if none. */
export function takeToken() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1] ?? ""));
    history.replaceState(null, "", `${location.pathname}${location.search}#/`);
  }
  return sessionStorage.getItem(KEY);
}

/**
 * The token's claims `{app, exp}` (unverified: the server checks the
 * signature; the page uses them only to know which application to show and to
 * say "expired" rather than "not valid"), or null when it is not a portal token.
 * @param {string} token
 * @returns {{app: string, exp: number} | null}
 */
export function claims(token) {
  const match = /^hpt_([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]{43}$/.exec(token);
  if (!match) return null;
  try {
    const json = JSON.parse(atob((match[1] ?? "").replace(/-/g, "+").replace(/_/g, "/")));
    return typeof json?.app === "string" && Number.isSafeInteger(json?.exp) ? { app: json.app, exp: json.exp } : null;
  } catch {
    return null;
  }
}

/**
 * A client of `/api/v1` with this token: `call("GET", "/applications/…")` → the
 * parsed JSON; throws ApiError on a non-2xx; `onUnauthorized` runs on a 401
 * (the token expired while the page was open).
 * @param {string} token
 * @param {() => void} onUnauthorized
 */
export function apiClient(token, onUnauthorized) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {unknown} [body]
   */
  return async function call(method, path, body) {
    return answer(await send(token, method, path, body), onUnauthorized);
  };
}
