import type { FastifyInstance, FastifyReply } from "fastify";

/**
 * Security headers on every response the server sends: the API's JSON, its
 * problems, `/openapi.json`, the health probes and the HTML pages. Each header
 * is a default: a route that set its own (the dashboard's and the portal's
 * CSP, the dashboard's `cache-control`) keeps it.
 */
export const DEFAULT_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  // JSON needs nothing from a browser: no scripts, no styles, no framing.
  "content-security-policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  "cross-origin-resource-policy": "same-origin",
  // Answers carry tenants' data and secrets: no shared or browser cache keeps them.
  "cache-control": "no-store",
};

const ENTRIES = Object.entries(DEFAULT_SECURITY_HEADERS);

/** Sets each default security header that `reply` does not have yet. */
export function applySecurityHeaders(reply: FastifyReply): void {
  for (const [name, value] of ENTRIES) if (!reply.hasHeader(name)) reply.header(name, value);
}

/**
 * Adds the default security headers to every response of `app`. (Errors raised
 * before routing skip the hooks; the problem writer applies them itself.)
 */
export function securityHeaders(app: FastifyInstance): void {
  // Callback style: no promise per response on the publish hot path.
  app.addHook("onSend", (_req, reply, payload, done) => {
    applySecurityHeaders(reply);
    done(null, payload);
  });
}
