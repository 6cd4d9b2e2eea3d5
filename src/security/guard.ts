import { lookup as dnsLookup } from "node:dns/promises";
import type { LookupFunction } from "node:net";
import { ConfigError } from "../core/errors.js";
import { type Cidr, formatIp, inCidr, type IpAddress, parseCidr, parseIp, unmap } from "./ip.js";
import { blockedReason } from "./ranges.js";

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses. Default: `dns.lookup(host, { all: true })`. */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface SsrfGuardOptions {
  /** CIDRs let through even though they are not globally routable (`HERALD_ALLOWED_NETWORKS`). Default: none. */
  allowedNetworks?: readonly string[];
  /** Default: the system resolver (`dns.lookup`, every address). Tests inject one that answers loopback. */
  resolve?: HostResolver;
  /** How long a checked answer for a host name is reused. Default: 5000 ms; 0 disables the cache. */
  cacheMs?: number;
}

/** The error an attempt fails with when its target is refused; the sender records it as `blocked`. */
export class SsrfBlockedError extends Error {
  override name = "SsrfBlockedError";
  readonly code = "ERR_SSRF_BLOCKED";
}

const systemResolver: HostResolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

const ALLOW_HINT = "Herald delivers only to globally routable addresses unless HERALD_ALLOWED_NETWORKS includes it";
const CACHE_LIMIT = 1000;

/**
 * The SSRF guard: decides whether Herald may connect to an address, and
 * resolves host names into checked addresses that the connection then uses
 * (`lookup`), so a name cannot be re-resolved to something else between the
 * check and the connect (DNS rebinding). Literal IPs are checked without DNS.
 *
 * A name is refused when any of its addresses is refused: a name that points
 * both outside and inside is not one to trust with either.
 *
 * @example
 * const guard = new SsrfGuard({ allowedNetworks: ["10.20.0.0/16"] });
 * guard.check("169.254.169.254"); // → "169.254.169.254 is a link-local address …"
 */
export class SsrfGuard {
  private readonly allowed: Cidr[];
  private readonly resolver: HostResolver;
  private readonly cacheMs: number;
  private readonly cache = new Map<string, { until: number; result: Promise<ResolvedAddress[]> }>();

  constructor(options: SsrfGuardOptions = {}) {
    this.allowed = (options.allowedNetworks ?? []).map((text) => {
      try {
        return parseCidr(text.trim());
      } catch (err) {
        throw new ConfigError(`HERALD_ALLOWED_NETWORKS: ${(err as Error).message}`);
      }
    });
    this.resolver = options.resolve ?? systemResolver;
    this.cacheMs = options.cacheMs ?? 5000;
  }

  /** Why connecting to this IP literal is refused, or undefined when it is allowed. Not an IP: refused. */
  check(address: string): string | undefined {
    const why = this.refusal(address);
    return why && `${why.address} is ${why.reason}; ${ALLOW_HINT}`;
  }

  private refusal(address: string): { address: string; reason: string } | undefined {
    const ip = parseIp(address);
    if (!ip) return { address, reason: "not an IP address" };
    if (this.isAllowed(ip)) return undefined;
    const reason = blockedReason(ip);
    if (reason === undefined) return undefined;
    const plain = unmap(ip);
    return { address: plain === ip ? formatIp(ip) : `${formatIp(ip)} (${formatIp(plain)})`, reason };
  }

  private isAllowed(ip: IpAddress): boolean {
    if (this.allowed.length === 0) return false;
    const plain = unmap(ip);
    return this.allowed.some((cidr) => inCidr(ip, cidr) || inCidr(plain, cidr));
  }

  /**
   * Resolves a host (name or literal, IPv6 with or without brackets) into
   * addresses that are all allowed; rejects with `SsrfBlockedError` otherwise,
   * or with the resolver's own error (`ENOTFOUND` …).
   */
  resolve(host: string): Promise<ResolvedAddress[]> {
    const literal = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
    const ip = parseIp(literal);
    if (ip) {
      const problem = this.check(literal);
      return problem ? Promise.reject(new SsrfBlockedError(problem)) : Promise.resolve([{ address: literal, family: ip.family }]);
    }
    const key = host.toLowerCase();
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.until > now) return hit.result;
    const result = this.resolveName(key);
    if (this.cacheMs > 0) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(key, { until: now + this.cacheMs, result });
      // A failed lookup is not remembered: the next connection asks again.
      result.catch(() => this.cache.delete(key));
    }
    return result;
  }

  private async resolveName(name: string): Promise<ResolvedAddress[]> {
    const answers = await this.resolver(name);
    if (answers.length === 0) throw Object.assign(new Error(`${name} has no addresses`), { code: "ENOTFOUND" });
    for (const a of answers) {
      const why = this.refusal(a.address);
      if (why) throw new SsrfBlockedError(`${name} resolves to ${why.address}, which is ${why.reason}; ${ALLOW_HINT}`);
    }
    return answers;
  }

  /**
   * A `lookup` for `net.connect`/`tls.connect`: the socket connects to exactly
   * the addresses this returns, which were checked (no second DNS query).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.resolve(hostname).then(
      (answers) => {
        const wanted = options.family === 4 || options.family === 6 ? answers.filter((a) => a.family === options.family) : answers;
        if (wanted.length === 0) {
          callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: "ENOTFOUND" }), "", 0);
        } else if (options.all) {
          (callback as unknown as (err: null, addresses: ResolvedAddress[]) => void)(null, wanted);
        } else {
          callback(null, wanted[0]!.address, wanted[0]!.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, "", 0),
    );
  };

  /**
   * Why an endpoint may not be created or changed with this URL, or undefined.
   * Only what is knowable without DNS is judged here: port 0, IP literals (any
   * spelling WHATWG URL parsing accepts) and `localhost` names (RFC 6761: always
   * loopback). Other names are resolved and checked at every connection, since
   * what they resolve to now says little about what they resolve to later.
   */
  async checkUrl(url: string): Promise<string | undefined> {
    let host: string;
    let port: string;
    try {
      ({ hostname: host, port } = new URL(url));
    } catch {
      return undefined; // the URL's shape is judged elsewhere
    }
    // Port 0 (`:0`, `:00`) names no service: nothing can be connected to there.
    if (port === "0") return "port 0 is not a port Herald can connect to; name the receiver's port (or none, for the scheme's default)";
    const literal = host.startsWith("[") ? host.slice(1, -1) : host;
    if (parseIp(literal)) return this.check(literal);
    const name = literal.toLowerCase().replace(/\.$/, "");
    if (name === "localhost" || name.endsWith(".localhost")) {
      const problem = this.check("127.0.0.1") && this.check("::1");
      return problem && `${host} is a loopback name; ${ALLOW_HINT}`;
    }
    return undefined;
  }
}
