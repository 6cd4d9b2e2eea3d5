/**
 * Headers on every dashboard response (the page and its files). The page runs
 * only its own script and style files: no inline code, no other origin, no
 * framing, no form posting anywhere (the sign-in form is handled by script, so
 * if the script fails the key is not sent in a URL). It talks only to its own
 * origin's `/api/v1`.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  // Revalidate on every load (an ETag makes that a 304): a new Herald version's
  // dashboard is never mixed with a cached older file.
  "cache-control": "no-cache",
};
