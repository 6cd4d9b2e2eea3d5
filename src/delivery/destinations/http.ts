import type { ConnectionOptions } from "node:tls";
import type { Dispatcher } from "undici";
import { createGuardedAgent } from "../../security/agent.js";
import { SsrfGuard } from "../../security/guard.js";
import type { AttemptErrorKind } from "../../store/model.js";
import { DeadlineClock } from "../deadline.js";
import { type OAuth2Options, OAuth2Tokens } from "../oauth2.js";
import { type Destination, failedResult, type PreparedAttempt, type SendResult } from "./destination.js";
import { exchange } from "./http-exchange.js";

/** How much later than the attempt's deadline undici's own timeouts fire. */
const BACKSTOP_MS = 1000;

export interface HttpDestinationOptions {
  /** Keep-alive connections per origin. Default: 64. */
  connectionsPerOrigin?: number;
  /**
   * Decides which addresses may be connected to, for attempts and token
   * requests alike. Default: a guard that lets through only globally routable
   * addresses (no allowed networks).
   */
  guard?: SsrfGuard;
  /** Extra TLS settings for every connection (a test CA). Default: none (the system's CAs). */
  tls?: Pick<ConnectionOptions, "ca">;
  /** Token caching for `oauth2` endpoints. */
  oauth2?: OAuth2Options;
  /** Replaces the guarded undici dispatcher altogether (tests of this destination alone): no SSRF guard then. */
  dispatcher?: Dispatcher;
}

/**
 * `http:` and `https:` endpoints: one `POST` per attempt (or the `PUT`/`PATCH` a
 * transformation chose), through an undici
 * Agent (one keep-alive pool per origin, every connection through the SSRF
 * guard), never following redirects, with one deadline covering connect,
 * headers and the (bounded) body. The status code decides success; a body still arriving at
 * the deadline is cut off and the status kept. A receiver that hangs, trickles
 * or sends a huge body costs at most the timeout and 64 KiB of reading.
 */
export class HttpDestination implements Destination {
  private readonly dispatcher: Dispatcher;
  private readonly tokens: OAuth2Tokens;
  private readonly clock = new DeadlineClock();

  constructor(options: HttpDestinationOptions = {}) {
    this.dispatcher =
      options.dispatcher ??
      createGuardedAgent(options.guard ?? new SsrfGuard(), {
        connections: options.connectionsPerOrigin ?? 64,
        keepAliveTimeout: 30_000,
        ...(options.tls ? { tls: options.tls } : {}),
      });
    this.tokens = new OAuth2Tokens(this.dispatcher, options.oauth2);
  }

  async send(req: PreparedAttempt): Promise<SendResult> {
    const started = performance.now();
    let headers = req.headers;
    let token: string | undefined;
    if (req.oauth2) {
      // The token request has its own timeout; the attempt's deadline starts after it.
      try {
        token = await this.tokens.token(req.oauth2, req.timeoutMs);
      } catch (err) {
        const blocked = (err as { cause?: { code?: string } }).cause?.code === "ERR_SSRF_BLOCKED";
        return failed(blocked ? "blocked" : "auth", (err as Error).message, started);
      }
      headers = { ...headers, authorization: `Bearer ${token}` };
    }
    const signal = this.clock.start(req.timeoutMs);
    try {
      const res = await exchange(
        this.dispatcher,
        {
          origin: req.url.origin,
          path: req.url.pathname + req.url.search,
          method: (req.method ?? "POST") as Dispatcher.HttpMethod,
          headers,
          body: req.body,
          // Backstops only: the deadline above is what ends an attempt (it lets
          // an answer that already arrived be read first; undici's timers do not).
          headersTimeout: req.timeoutMs + BACKSTOP_MS,
          bodyTimeout: req.timeoutMs + BACKSTOP_MS,
        },
        signal,
      );
      this.clock.done(signal);
      const statusCode = res.statusCode;
      const ok = statusCode >= 200 && statusCode < 300;
      // "Fetched again once on a 401": the next attempt asks for a new token.
      if (statusCode === 401 && token !== undefined) this.tokens.invalidate(req.oauth2!, token);
      return {
        ok,
        statusCode,
        headers: res.headers,
        body: res.body,
        errorKind: ok ? null : statusCode >= 300 && statusCode < 400 ? "redirect" : "http_status",
        errorMessage: ok ? null : `HTTP ${statusCode}`,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (err) {
      const { kind, message } = classifyError(err, signal.aborted, req.timeoutMs);
      this.clock.done(signal);
      return failed(kind, message, started);
    }
  }

  /** Closes the pools; with `abort`, requests still running are cut off (stop deadline passed). */
  async close(abort = false): Promise<void> {
    this.clock.close();
    await (abort ? this.dispatcher.destroy() : this.dispatcher.close()).catch(() => undefined);
  }
}

function failed(kind: AttemptErrorKind, message: string, started: number): SendResult {
  return failedResult(kind, message, Math.round(performance.now() - started));
}

const CODE_KINDS: Record<string, AttemptErrorKind> = {
  ECONNREFUSED: "connection_refused",
  ECONNRESET: "connection_reset",
  EPIPE: "connection_reset",
  UND_ERR_SOCKET: "connection_reset",
  UND_ERR_CLOSED: "connection_reset",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  UND_ERR_CONNECT_TIMEOUT: "timeout",
  UND_ERR_HEADERS_TIMEOUT: "timeout",
  UND_ERR_BODY_TIMEOUT: "timeout",
  ETIMEDOUT: "timeout",
  ERR_SSRF_BLOCKED: "blocked",
};

/** Maps an error thrown by undici (or the guard) to the attempt's error kind. */
export function classifyError(err: unknown, timedOut: boolean, timeoutMs: number): { kind: AttemptErrorKind; message: string } {
  if (timedOut) return { kind: "timeout", message: `no complete response within ${timeoutMs} ms` };
  const e = err as { code?: string; cause?: { code?: string }; message?: string; name?: string };
  const code = e.code ?? e.cause?.code ?? "";
  const message = (e.message ?? String(err)).slice(0, 500);
  const kind = CODE_KINDS[code];
  if (kind) return { kind, message: code ? `${code}: ${message}` : message };
  if (code.startsWith("ERR_TLS") || code.includes("CERT") || /certificate|TLS|SSL/i.test(message)) return { kind: "tls", message };
  if (e.name === "TimeoutError" || e.name === "AbortError") return { kind: "timeout", message };
  return { kind: "network", message: code ? `${code}: ${message}` : message };
}
