import { isIP } from "node:net";
import type { ConnectionOptions } from "node:tls";
import { type BrokerTarget, parseBrokerUrl } from "../../core/broker-url.js";
import { SsrfGuard } from "../../security/guard.js";
import type { AttemptErrorKind } from "../../store/model.js";
import { type Deadline, DeadlineClock } from "../deadline.js";
import { BrokerPool, type PooledConnection } from "./broker-pool.js";
import { type Destination, failedResult, type PreparedAttempt, RESPONSE_BODY_LIMIT, type SendResult } from "./destination.js";
import { classifyError } from "./http.js";

export interface BrokerDestinationOptions {
  /** Decides which broker addresses may be connected to. Default: only globally routable addresses. */
  guard?: SsrfGuard;
  /** A connection unused this long is closed. Default: 30000 ms. */
  idleMs?: number;
  /**
   * Extra TLS settings for `amqps:`, `tls:` and `rediss:` connections: a CA
   * (tests), a client certificate and its key (`HERALD_BROKER_TLS_CERT`).
   * Default: none (the system's CAs, no client certificate).
   */
  tls?: Pick<ConnectionOptions, "ca" | "cert" | "key">;
}

interface Resolved<T> {
  target: T;
  /** Its connection in the pool. */
  key: string;
  /** What error messages must not show. */
  secrets: string[];
}

const TARGET_CACHE_LIMIT = 1000;

/** What a broker said to one publish. */
export type BrokerAnswer =
  | { ok: true; /** The broker's acknowledgement, for the attempt log (an entry id, a stream sequence…). */ answer: string }
  | { ok: false; kind: AttemptErrorKind; message: string };

/**
 * What the three broker destinations share: the URL read into a target, one
 * pooled connection per broker (`BrokerPool`), the SSRF guard on the broker's
 * address (the connection is made to the checked IP, never to a name resolved
 * again), one deadline over connect and publish, and errors turned into a
 * failed `SendResult` with the URL's credentials blanked out. A subclass only
 * opens a connection and publishes on it.
 */
export abstract class BrokerDestination<T extends BrokerTarget, C extends PooledConnection> implements Destination {
  protected readonly guard: SsrfGuard;
  private readonly pool: BrokerPool<C>;
  private readonly clock = new DeadlineClock();
  private readonly targets = new Map<string, Resolved<T> | string>();
  private readonly tls: Pick<ConnectionOptions, "ca" | "cert" | "key">;

  constructor(options: BrokerDestinationOptions = {}) {
    this.guard = options.guard ?? new SsrfGuard();
    this.pool = new BrokerPool<C>(options.idleMs ?? 30_000);
    this.tls = options.tls ?? {};
  }

  /**
   * The TLS settings of a connection to the target, undefined for a plain
   * one. The socket goes to the address the guard checked, so the name the
   * certificate must be for is given as the server name (SNI), as for HTTPS.
   */
  protected tlsOptions(target: T): ConnectionOptions | undefined {
    if (!target.tls) return undefined;
    const host = target.host.replace(/^\[(.*)\]$/, "$1");
    return { ...this.tls, ...(isIP(host) ? {} : { servername: host }), rejectUnauthorized: true };
  }

  /** Opens a connection to `address` (the target's host, checked by the guard); calls `forget` when it ends by itself. */
  protected abstract open(target: T, address: string, timeoutMs: number, forget: () => void): Promise<C>;

  /** Publishes one message; never throws for what the broker refused (a throw is a connection-level failure). */
  protected abstract publish(connection: C, target: T, attempt: PreparedAttempt, deadline: Deadline): Promise<BrokerAnswer>;

  /** What error messages must not show: the password (and, where the user part is a token, that). */
  protected secrets(target: T): string[] {
    return [target.password];
  }

  /** What one connection is bound to; credentials included, so two users never share one. */
  protected abstract poolKey(target: T): string;

  async send(prepared: PreparedAttempt): Promise<SendResult> {
    const started = performance.now();
    const resolved = this.resolveTarget(prepared);
    if (typeof resolved === "string") return failedResult("unsupported_destination", `the endpoint's URL cannot be delivered: ${resolved}`, 0);
    if (prepared.oauth2) return failedResult("auth", OAUTH2_REFUSED, 0);
    const { target, key, secrets } = resolved;
    // The login was read from `authorization` once, into the cached target: here it is only dropped, never passed on.
    const req = prepared.headers.authorization === undefined ? prepared : { ...prepared, headers: withoutAuthorization(prepared.headers) };
    const deadline = this.clock.start(req.timeoutMs);
    const timedOut = new Promise<BrokerAnswer>((resolve) =>
      deadline.once("abort", () => resolve({ ok: false, kind: "timeout", message: `no acknowledgement from the broker within ${req.timeoutMs} ms` })),
    );
    const work = this.pool.with(
      key,
      async (forget) => {
        const [first] = await this.guard.resolve(target.host);
        // The clients' own connect timeouts are backstops: the attempt's deadline is what ends it.
        return this.open(target, first!.address, req.timeoutMs + BACKSTOP_MS, forget);
      },
      // A connection that opened after the deadline carries nothing: the attempt is over (a timeout).
      (connection) => (deadline.aborted ? timedOut : this.publish(connection, target, req, deadline)),
    );
    work.catch(() => undefined); // it may lose the race with the deadline
    let answer: BrokerAnswer;
    try {
      answer = await Promise.race([work, timedOut]);
    } catch (err) {
      answer = err instanceof BrokerFailure ? { ok: false, kind: err.kind, message: err.message } : { ok: false, ...classify(err, req.timeoutMs) };
    } finally {
      this.clock.done(deadline);
    }
    const durationMs = Math.round(performance.now() - started);
    if (!answer.ok) return failedResult(answer.kind, redact(answer.message, secrets), durationMs);
    return { ok: true, statusCode: null, headers: null, body: answer.answer.slice(0, RESPONSE_BODY_LIMIT), errorKind: null, errorMessage: null, durationMs };
  }

  /**
   * The URL read, with the login of the endpoint's `authentication`, and its
   * pool key: remembered per URL and login, since every attempt to an
   * endpoint asks the same (what a publish costs besides the broker's answer).
   */
  private resolveTarget(req: PreparedAttempt): Resolved<T> | string {
    const cacheKey = `${req.url.href}\n${req.headers.authorization ?? ""}`;
    const hit = this.targets.get(cacheKey);
    if (hit !== undefined) return hit;
    const parsed = parseBrokerUrl(req.url);
    let resolved: Resolved<T> | string = parsed as string;
    if (typeof parsed !== "string") {
      const { target } = brokerLogin(parsed, req.headers);
      resolved = { target: target as T, key: this.poolKey(target as T), secrets: this.secrets(target as T).filter((s) => s.length > 0) };
    }
    if (this.targets.size >= TARGET_CACHE_LIMIT) this.targets.clear();
    this.targets.set(cacheKey, resolved);
    return resolved;
  }

  /** Closes every broker connection (an attempt still running fails). Idempotent. */
  async close(abort = false): Promise<void> {
    this.clock.close();
    await this.pool.close(abort);
  }

  /** Open connections (tests). */
  get connections(): number {
    return this.pool.size;
  }
}

/** How much later than the attempt's deadline the clients' own connect timeouts fire. */
const BACKSTOP_MS = 1000;

/** As for HTTP, plus the clients' own timeouts, which carry no error code (amqplib's `connect ETIMEDOUT`). */
function classify(err: unknown, timeoutMs: number): { kind: AttemptErrorKind; message: string } {
  const classified = classifyError(err, false, timeoutMs);
  if (classified.kind === "network" && /ETIMEDOUT|timed? ?out/i.test(classified.message)) return { ...classified, kind: "timeout" };
  return classified;
}

const OAUTH2_REFUSED =
  "OAuth 2.0 client credentials apply to http(s) endpoints only; give a broker its login in the URL or as basic (or bearer) authentication";

/**
 * The endpoint's `authentication` (which the dispatcher turned into an
 * `authorization` header) is the broker's login when the URL names none:
 * basic is user and password; bearer is a NATS token, or a password for
 * RabbitMQ (its OAuth 2.0 plugin) and Redis. Either way the header is a
 * credential for the broker, not passed on to consumers.
 */
export function brokerLogin(target: BrokerTarget, headers: Record<string, string>): { target: BrokerTarget; headers: Record<string, string> } {
  const { authorization, ...rest } = headers;
  if (authorization === undefined) return { target, headers };
  if (target.username || target.password) return { target, headers: rest };
  const space = authorization.indexOf(" ");
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1);
  if (scheme === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return { target: { ...target, username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }, headers: rest };
  }
  if (scheme === "bearer") {
    return { target: target.scheme === "nats" ? { ...target, username: value } : { ...target, password: value }, headers: rest };
  }
  return { target, headers: rest };
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  const { authorization: _, ...rest } = headers;
  return rest;
}

/** A failure whose kind the destination knows (a login refused: `auth`), thrown while connecting. */
export class BrokerFailure extends Error {
  constructor(
    readonly kind: AttemptErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** Blanks out every credential (as given, and URL-encoded) in a message meant for the attempt log. */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join("***");
  }
  return out;
}

/** The message of anything thrown, for an attempt's error message. */
export function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 500);
}
