import { HeraldApiError, type Problem } from "./errors.js";
import type { paths } from "./generated/schema.js";
import type { HttpMethod, InitArgs, PageItem, PaginatedPaths, PathsWith, RequestInit, ResponseData } from "./types.js";

export interface HeraldClientOptions {
  /** Where Herald listens, e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** The admin key or an application-scoped token: sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /**
   * Retries of an idempotent call (GET, PUT, DELETE, and a POST or PATCH with an
   * `Idempotency-Key` header) on a network error, a 429 or a 503. Default 2; 0 turns them off.
   */
  retries?: number;
  /** The longest wait before a retry, in ms; a `Retry-After` asking for more is not waited for (the error is thrown). Default 10 000. */
  maxRetryDelayMs?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** The fetch to use; default the global one (Node ≥ 18). */
  fetch?: typeof fetch;
}

type Call<M extends HttpMethod> = <P extends PathsWith<M>>(path: P, ...init: InitArgs<P, M>) => Promise<ResponseData<P, M>>;

export interface HeraldClient {
  GET: Call<"get">;
  POST: Call<"post">;
  PUT: Call<"put">;
  PATCH: Call<"patch">;
  DELETE: Call<"delete">;
  /**
   * Every item of a list, page after page (following `nextCursor`), as an async
   * iterator; `params.query.limit` is the page size.
   *
   * @example
   * for await (const msg of client.paginate("/api/v1/applications/{app}/messages", { params: { path: { app: "shop" } } })) console.log(msg.id);
   */
  paginate<P extends PaginatedPaths>(path: P, ...init: InitArgs<P, "get">): AsyncIterableIterator<PageItem<P>>;
}

const BASE_DELAY_MS = 100;
const RETRYABLE_STATUS = new Set([429, 503]);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** `Retry-After` in ms: delta-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function buildUrl(baseUrl: string, path: string, params: { path?: Record<string, unknown>; query?: Record<string, unknown> } | undefined): string {
  const filled = path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = params?.path?.[name];
    if (value === undefined || value === null) throw new TypeError(`${path}: missing path parameter ${name}`);
    return encodeURIComponent(String(value));
  });
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params?.query ?? {})) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) search.append(key, v instanceof Date ? v.toISOString() : String(v));
  }
  const query = search.toString();
  return `${baseUrl.replace(/\/+$/, "")}${filled}${query ? `?${query}` : ""}`;
}

async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === "") return undefined;
  const type = response.headers.get("content-type") ?? "";
  if (/[/+]json\b/.test(type)) return JSON.parse(text);
  return text;
}

/**
 * A client for Herald's HTTP API, typed by the server's own OpenAPI document.
 * Calls answer the response's body; an error response throws a
 * {@link HeraldApiError}.
 *
 * @example
 * const herald = createHeraldClient({ baseUrl: "http://127.0.0.1:8080", apiKey: process.env.HERALD_API_KEY! });
 * const app = await herald.POST("/api/v1/applications", { body: { name: "Shop", uid: "shop" } });
 * await herald.POST("/api/v1/applications/{app}/messages", {
 *   params: { path: { app: app.id }, header: { "Idempotency-Key": "order-1" } },
 *   body: { eventType: "order.created", payload: { orderId: "1" } },
 * });
 */
export function createHeraldClient(options: HeraldClientOptions): HeraldClient {
  if (!options?.baseUrl) throw new TypeError("createHeraldClient: baseUrl is required");
  if (!options.apiKey) throw new TypeError("createHeraldClient: apiKey is required");
  const retries = Math.max(0, Math.floor(options.retries ?? 2));
  const maxDelay = options.maxRetryDelayMs ?? 10_000;
  const doFetch = options.fetch ?? globalThis.fetch;

  async function request(method: HttpMethod, path: string, init: RequestInit<keyof paths, HttpMethod> | undefined): Promise<unknown> {
    const opts = (init ?? {}) as {
      params?: { path?: Record<string, unknown>; query?: Record<string, unknown>; header?: Record<string, unknown> };
      body?: unknown;
      headers?: Record<string, string>;
      signal?: AbortSignal;
    };
    const url = buildUrl(options.baseUrl, path, opts.params);
    const headers = new Headers(options.headers);
    for (const [k, v] of Object.entries(opts.params?.header ?? {})) if (v !== undefined && v !== null) headers.set(k, String(v));
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers.set(k, v);
    headers.set("authorization", `Bearer ${options.apiKey}`);
    headers.set("accept", "application/json, application/problem+json");
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers.set("content-type", "application/json");
    }
    const verb = method.toUpperCase();
    const idempotent = verb === "GET" || verb === "PUT" || verb === "DELETE" || headers.has("idempotency-key");
    const label = `${verb} ${path}`;

    for (let attempt = 0; ; attempt++) {
      const canRetry = idempotent && attempt < retries;
      const backoff = Math.min(maxDelay, BASE_DELAY_MS * 2 ** attempt);
      let response: Response;
      try {
        response = await doFetch(url, { method: verb, headers, body, signal: opts.signal });
      } catch (err) {
        if (!canRetry || opts.signal?.aborted) throw err;
        await sleep(backoff, opts.signal);
        continue;
      }
      if (response.ok) return readBody(response);
      if (canRetry && RETRYABLE_STATUS.has(response.status)) {
        const asked = retryAfterMs(response.headers.get("retry-after"));
        if (asked === undefined || asked <= maxDelay) {
          await response.body?.cancel().catch(() => {});
          await sleep(asked ?? backoff, opts.signal);
          continue;
        }
      }
      let problem: Partial<Problem> = {};
      try {
        const parsed = await readBody(response);
        if (parsed && typeof parsed === "object") problem = parsed as Partial<Problem>;
        else if (typeof parsed === "string") problem = { detail: parsed };
      } catch {
        // not JSON: the status says it
      }
      throw new HeraldApiError(response.status, problem, label, response.headers);
    }
  }

  const call =
    <M extends HttpMethod>(method: M): Call<M> =>
    (path, ...init) =>
      request(method, path as string, init[0] as RequestInit<keyof paths, HttpMethod> | undefined) as never;

  const client: HeraldClient = {
    GET: call("get"),
    POST: call("post"),
    PUT: call("put"),
    PATCH: call("patch"),
    DELETE: call("delete"),
    async *paginate(path, ...init) {
      const first = (init[0] ?? {}) as { params?: { path?: Record<string, unknown>; query?: Record<string, unknown> } };
      let cursor: string | null | undefined;
      do {
        const params = { ...first.params, query: { ...first.params?.query, ...(cursor ? { cursor } : {}) } };
        const page = (await request("get", path, { ...first, params } as never)) as { data: unknown[]; nextCursor: string | null };
        for (const item of page.data) yield item as never;
        cursor = page.nextCursor;
      } while (cursor);
    },
  };
  return client;
}
