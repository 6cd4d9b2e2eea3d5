import type { ConnectionOptions } from "node:tls";
import { Agent, buildConnector } from "undici";
import { type SsrfGuard, SsrfBlockedError } from "./guard.js";
import { parseIp } from "./ip.js";

export interface GuardedAgentOptions {
  /** Keep-alive connections per origin. */
  connections: number;
  /** Default: 30000 ms. */
  keepAliveTimeout?: number;
  /** Extra TLS settings (e.g. a `ca` in tests). Certificates are always verified. */
  tls?: Pick<ConnectionOptions, "ca">;
}

/**
 * An undici Agent whose every new connection passes the SSRF guard:
 * - an IP-literal host is checked as is (no DNS);
 * - a name is resolved by the guard's `lookup`, which refuses the connection
 *   unless every address is allowed, and hands the checked addresses to the
 *   socket, which connects to one of them: nothing resolves the name twice.
 * TLS keeps the name: undici derives SNI from the request's host, and Node
 * verifies the certificate against it, not against the address.
 *
 * The check is per connection. Connections are per origin and kept alive at
 * most `keepAliveTimeout` when idle, and a connection stays with the address
 * it was checked against, so every byte of every attempt goes to a checked
 * address, without a DNS lookup per request.
 */
export function createGuardedAgent(guard: SsrfGuard, options: GuardedAgentOptions): Agent {
  const base = buildConnector({ ...options.tls, rejectUnauthorized: true, lookup: guard.lookup } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (opts, callback) => {
    if (parseIp(opts.hostname)) {
      const problem = guard.check(opts.hostname);
      if (problem) {
        callback(new SsrfBlockedError(problem), null);
        return;
      }
    }
    base(opts, callback);
  };
  return new Agent({
    connections: options.connections,
    keepAliveTimeout: options.keepAliveTimeout ?? 30_000,
    pipelining: 1,
    connect,
  });
}
