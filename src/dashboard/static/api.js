// @ts-check
// The management API, called with the admin key the user signed in with. The
// key lives in sessionStorage: it survives a reload of this tab and is gone
// when the tab closes; it is never put in a URL or a cookie.

const KEY = "herald.adminKey";

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  signIn(key) {
    sessionStorage.setItem(KEY, key);
  },
  signOut() {
    sessionStorage.removeItem(KEY);
  },
};

/** A problem+json answer: `code` is the API's stable error code. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code ?? "http_error";
  }
}

let onUnauthorized = () => {};
/** Called when the key stops working (401): the app goes back to the sign-in form. */
export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

/**
 * `fetch` of `/api/v1${path}` with `token` as the bearer and `body`, if any,
 * as JSON. Shared with the portal, which calls it with its portal token.
 * @param {string} token
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
export function send(token, method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${token}`, accept: "application/json" };
  /** @type {RequestInit} */
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(`/api/v1${path}`, init);
}

/**
 * The parsed JSON body of `res` (null when empty or not JSON); throws ApiError
 * on a non-2xx, after calling `onUnauthorized`, if given, on a 401.
 * @param {Response} res
 * @param {() => void} [onUnauthorized]
 */
export async function answer(res, onUnauthorized) {
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401) onUnauthorized?.();
    throw new ApiError(res.status, data);
  }
  return data;
}

/**
 * `api("GET", "/applications")` → the parsed JSON body; throws ApiError on a
 * non-2xx. A 401 signs the user out, except while trying a key (`trying`).
 */
export async function api(method, path, body, { trying = false } = {}) {
  const key = session.key ?? "";
  let res = await send(key, method, path, body);
  // Pages with many cards and rows make many small reads at once: a read over
  // the key's rate limit waits as long as the answer says (at most 5 s) and
  // is tried once more, instead of showing an error.
  if (res.status === 429 && method === "GET") {
    const wait = Math.min(5, Number(res.headers.get("retry-after")) || 1);
    await new Promise((r) => setTimeout(r, wait * 1000));
    res = await send(key, method, path, body);
  }
  return answer(res, trying ? undefined : onUnauthorized);
}

/** `/applications/{app}/endpoints/{ep}` from segments, each encoded. */
export function path(...segments) {
  return `/${segments.map((x) => encodeURIComponent(x)).join("/")}`;
}

/** `?limit=50&cursor=…`, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const text = q.toString();
  return text ? `?${text}` : "";
}
