/**
 * Whether an error means the database could not be reached or answered for a
 * moment (a restart, a failover, a connection killed by an operator, a SQLite
 * file locked by another writer past the busy timeout), as opposed to a bug or
 * bad data. The API answers such a failure with `503 store_unavailable` and
 * `Retry-After`, not an opaque 500. (Whether a write committed before its
 * answer was lost cannot be known: publishes carry an Idempotency-Key for that.)
 */
export function storeUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  const code = typeof e.code === "string" ? e.code : "";
  // PostgreSQL SQLSTATEs: class 08 (connection exception), operator intervention
  // (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now), too many connections.
  if (/^08[0-9A-Z]{3}$/.test(code) || code === "57P01" || code === "57P02" || code === "57P03" || code === "53300") return true;
  // The socket under a connection.
  if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EPIPE" || code === "ETIMEDOUT") return true;
  // SQLite: another writer held the lock past the busy timeout.
  if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") return true;
  // node-postgres reports a connection lost mid-query without a code.
  const message = typeof e.message === "string" ? e.message : "";
  if (/^Connection terminated( unexpectedly| due to connection timeout)?$/.test(message) || message === "Client has encountered a connection error and is not queryable") return true;
  return e.cause !== undefined && e.cause !== err && storeUnavailable(e.cause);
}
