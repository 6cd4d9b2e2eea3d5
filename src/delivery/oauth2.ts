import { createHash } from "node:crypto";
import type { Dispatcher } from "undici";
import type { EndpointAuthentication } from "../store/model.js";

/** An endpoint's OAuth 2.0 client-credentials settings (contract §3). */
export type OAuth2Credentials = Extract<EndpointAuthentication, { type: "oauth2" }>;

/** What an attempt passes to the HTTP destination: whose token it is, and how to get one. */
export interface OAuth2Request {
  /** Tokens are cached per key and credentials; the endpoint id. */
  key: string;
  credentials: OAuth2Credentials;
}

export interface OAuth2Options {
  /** Lifetime assumed when the token response has no `expires_in`. Default: 300000 ms (5 min). */
  defaultLifetimeMs?: number;
  /** How long a failed token request is remembered, so a broken token endpoint is not hammered. Default: 1000 ms. */
  failureCacheMs?: number;
}

/** Why a token could not be had. `cause` keeps the network error (an SSRF refusal is still `blocked`). */
export class OAuth2Error extends Error {
  override name = "OAuth2Error";
  readonly code = "ERR_OAUTH2";
}

interface Token {
  value: string;
  /** When to stop using it: shortly before the server says it expires. */
  refreshAt: number;
}

/** Bytes of a token response read at most. */
const RESPONSE_LIMIT = 64 * 1024;
const CACHE_LIMIT = 10_000;
/** A token value that can go into a header as is (RFC 6750 b64token, a little wider). */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

/**
 * OAuth 2.0 client credentials (RFC 6749 §4.4) for outgoing requests: fetches
 * a token with HTTP Basic client authentication, caches it until shortly
 * before `expires_in`, shares one request among concurrent attempts, and
 * forgets a token the endpoint answered 401 to, so the next attempt fetches a
 * fresh one. Token requests go through the HTTP destination's dispatcher, and so through
 * the SSRF guard. Neither the client secret nor a token ever goes into an
 * error message.
 */
export class OAuth2Tokens {
  private readonly tokens = new Map<string, Token>();
  private readonly pending = new Map<string, Promise<Token>>();
  private readonly failures = new Map<string, { error: Error; until: number }>();
  private readonly defaultLifetimeMs: number;
  private readonly failureCacheMs: number;

  constructor(
    private readonly dispatcher: Dispatcher,
    options: OAuth2Options = {},
  ) {
    this.defaultLifetimeMs = options.defaultLifetimeMs ?? 300_000;
    this.failureCacheMs = options.failureCacheMs ?? 1000;
  }

  /** A valid access token (cached, or fetched within `timeoutMs`). Rejects with `OAuth2Error`. */
  async token(req: OAuth2Request, timeoutMs: number): Promise<string> {
    const key = cacheKey(req);
    const now = Date.now();
    const cached = this.tokens.get(key);
    if (cached && cached.refreshAt > now) return cached.value;
    const failed = this.failures.get(key);
    if (failed && failed.until > now) throw failed.error;
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetch(req.credentials, timeoutMs).then(
        (token) => {
          if (this.tokens.size >= CACHE_LIMIT) this.tokens.clear();
          this.tokens.set(key, token);
          this.failures.delete(key);
          return token;
        },
        (err: Error) => {
          if (this.failures.size >= CACHE_LIMIT) this.failures.clear();
          this.failures.set(key, { error: err, until: Date.now() + this.failureCacheMs });
          throw err;
        },
      );
      pending.finally(() => this.pending.delete(key)).catch(() => undefined);
      this.pending.set(key, pending);
    }
    return (await pending).value;
  }

  /** The endpoint refused `token` (401): the next attempt fetches a new one. */
  invalidate(req: OAuth2Request, token: string): void {
    const key = cacheKey(req);
    if (this.tokens.get(key)?.value === token) this.tokens.delete(key);
  }

  private async fetch(auth: OAuth2Credentials, timeoutMs: number): Promise<Token> {
    const where = describe(auth.tokenUrl);
    const fail = (detail: string, cause?: unknown): never => {
      throw new OAuth2Error(`oauth2 token request to ${where} failed: ${detail}`, cause === undefined ? undefined : { cause });
    };
    const url = new URL(auth.tokenUrl);
    const form = new URLSearchParams({ grant_type: "client_credentials" });
    if (auth.scope) form.set("scope", auth.scope);
    // RFC 6749 §2.3.1: client id and secret are form-encoded before Basic encoding.
    const basic = Buffer.from(`${formEncode(auth.clientId)}:${formEncode(auth.clientSecret)}`).toString("base64");
    const sentAt = Date.now();
    let res: Dispatcher.ResponseData;
    let text: string;
    try {
      res = await this.dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: "POST",
        headers: {
          authorization: `Basic ${basic}`,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: form.toString(),
        signal: AbortSignal.timeout(timeoutMs),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      text = await readLimited(res.body);
    } catch (err) {
      const e = err as { code?: string; name?: string; message?: string };
      if (e.name === "TimeoutError" || e.name === "AbortError") fail(`no response within ${timeoutMs} ms`, err);
      return fail(`${e.code ? `${e.code}: ` : ""}${e.message ?? String(err)}`.slice(0, 300), err);
    }
    let body: Record<string, unknown> = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === "object") body = parsed as Record<string, unknown>;
    } catch {
      // judged below
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      // RFC 6749 §5.2: `error` is a code; `error_description` is human text. Nothing else is repeated.
      const code = typeof body.error === "string" ? body.error.slice(0, 64) : undefined;
      const description = typeof body.error_description === "string" ? body.error_description.slice(0, 200) : undefined;
      fail(`HTTP ${res.statusCode}${code ? ` ${code}` : ""}${description ? `: ${description}` : ""}`);
    }
    const value = body.access_token;
    if (typeof value !== "string" || !TOKEN_CHARS.test(value) || value.length > 8192) {
      fail("the response has no usable access_token (expected JSON with a string access_token)");
    }
    const type = body.token_type;
    if (typeof type === "string" && type.toLowerCase() !== "bearer") fail(`token_type ${JSON.stringify(type.slice(0, 32))} is not Bearer`);
    const expiresIn = Number(body.expires_in);
    const lifetimeMs = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn * 1000 : this.defaultLifetimeMs;
    // Stop using a token shortly before it expires: 10 % of its life, at most 30 s.
    return { value: value as string, refreshAt: sentAt + lifetimeMs - Math.min(30_000, lifetimeMs / 10) };
  }
}

function cacheKey(req: OAuth2Request): string {
  const { tokenUrl, clientId, clientSecret, scope } = req.credentials;
  return createHash("sha256").update(JSON.stringify([req.key, tokenUrl, clientId, clientSecret, scope ?? null])).digest("base64");
}

/** `application/x-www-form-urlencoded` of one value (spaces as `+`). */
const formEncode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2);

/** The token URL without its query (which could carry something private), for messages. */
function describe(tokenUrl: string): string {
  try {
    const u = new URL(tokenUrl);
    return u.origin + u.pathname;
  } catch {
    return "the token URL";
  }
}

async function readLimited(body: Dispatcher.ResponseData["body"]): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > RESPONSE_LIMIT) {
      body.destroy();
      throw new Error(`the response is larger than ${RESPONSE_LIMIT} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
