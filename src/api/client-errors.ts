import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import { HeraldError } from "../core/errors.js";
import { problemBody } from "./problem.js";
import { DEFAULT_SECURITY_HEADERS } from "./security-headers.js";

/**
 * Requests that Node's HTTP parser refuses before Fastify sees them (a control
 * byte in a header, headers over `maxHeaderSize`, a malformed request line, a
 * request that took too long to arrive) are answered in `application/problem+json`
 * like every other error, then the connection is closed:
 *
 * | parser error | status | `code` |
 * |---|---|---|
 * | `HPE_HEADER_OVERFLOW` | 431 | `headers_too_large` |
 * | `ERR_HTTP_REQUEST_TIMEOUT` | 408 | `request_timeout` |
 * | anything else (`HPE_INVALID_HEADER_TOKEN`, …) | 400 | `malformed_request` |
 */

/** The problem that a parser error stands for. */
export function clientProblem(code: string | undefined): HeraldError {
  if (code === "HPE_HEADER_OVERFLOW") return new HeraldError("headers_too_large", "the request headers are larger than this server accepts (16 KiB in all, by default)");
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") return new HeraldError("request_timeout", "the request did not arrive in time");
  return new HeraldError("malformed_request", `the request cannot be parsed as HTTP/1.1 (${code ?? "parse error"}): check for control characters in headers`);
}

/** Fastify's `clientErrorHandler`: answers what can still be answered, and closes. */
export function clientErrorHandler(this: FastifyInstance, err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  this.log.debug({ err: { code: err.code, message: err.message } }, "refused a request the HTTP parser could not read");
  const problem = clientProblem(err.code);
  const body = JSON.stringify(problemBody(problem));
  const headers = {
    ...DEFAULT_SECURITY_HEADERS,
    "content-type": "application/problem+json; charset=utf-8",
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
  };
  if (socket.writable) {
    const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join("");
    socket.write(`HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\n${head}\r\n${body}`);
  }
  socket.destroy();
}
