import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { type ErrorCode, HeraldError } from "../core/errors.js";
import { storeUnavailable } from "../store/unavailable.js";
import { applySecurityHeaders } from "./security-headers.js";
import { fieldErrors } from "../core/validation.js";

/**
 * The API's one error handler: every failure leaves as `application/problem+json`
 * (RFC 9457) `{type, title, status, detail, code, errors?}`. HeraldErrors carry
 * their own code; Fastify's errors about the request (bad JSON, wrong media type,
 * too large, schema violations) are mapped to theirs; anything else is logged and
 * answered with an opaque 500.
 */

const TITLES: Record<ErrorCode, string> = {
  validation_failed: "Validation failed",
  too_deep: "Nested too deeply",
  transformation_too_large: "Transformation too large",
  transformation_failed: "Transformation failed",
  malformed_json: "Malformed JSON",
  malformed_request: "Malformed request",
  not_found: "Not found",
  unauthorized: "Unauthorized",
  forbidden: "Forbidden",
  conflict: "Conflict",
  invalid_transition: "Invalid transition",
  payment_declined: "Payment declined",
  payload_too_large: "Payload too large",
  headers_too_large: "Request headers too large",
  request_timeout: "Request timeout",
  unsupported_media_type: "Unsupported media type",
  rate_limited: "Too many requests",
  method_not_allowed: "Method not allowed",
  invalid_configuration: "Invalid configuration",
  store_unavailable: "Store unavailable",
  overloaded: "Overloaded",
  internal_error: "Internal server error",
};

/** Fastify's own request errors, by their code. */
const FASTIFY_CODES: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ["malformed_json", "the request body is not valid JSON"],
  FST_ERR_CTP_EMPTY_JSON_BODY: ["malformed_json", "the request body is empty but its content-type is application/json"],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ["malformed_json", "the request body does not match its Content-Length"],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ["unsupported_media_type", "send the request body as application/json"],
  FST_ERR_CTP_BODY_TOO_LARGE: ["payload_too_large", "the request body is larger than this server accepts"],
  FST_ERR_BAD_URL: ["not_found", "the request URL cannot be decoded"],
};

/** The HeraldError a request-side failure stands for, or null for a server-side fault. */
function classify(error: FastifyError): HeraldError | null {
  if (error instanceof HeraldError) return error;
  if (error.validation) {
    const errors = fieldErrors(error.validation as never, error.validationContext ?? "body");
    const detail = errors.map((e) => `${e.path}: ${e.message}`).join("; ");
    return new HeraldError("validation_failed", detail || "the request is invalid", errors);
  }
  const known = FASTIFY_CODES[error.code];
  if (known) return new HeraldError(known[0], known[1]);
  // secure-json-parse's prototype-poisoning refusal and any other client error
  // Fastify raises: a 4xx is the client's fault, never a 500.
  if (error instanceof SyntaxError || error.statusCode === 400) return new HeraldError("malformed_json", "the request body cannot be read as JSON");
  if (error.statusCode === 404) return new HeraldError("not_found", "no such resource");
  if (error.statusCode === 405) return new HeraldError("method_not_allowed", "method not allowed");
  if (error.statusCode === 413) return new HeraldError("payload_too_large", "the request body is too large");
  if (error.statusCode === 415) return new HeraldError("unsupported_media_type", "send the request body as application/json");
  if (error.statusCode !== undefined && error.statusCode > 400 && error.statusCode < 500) {
    return new HeraldError("validation_failed", error.message);
  }
  return null;
}

/** The RFC 9457 document of an error. */
export function problemBody(error: HeraldError) {
  return {
    type: `/problems/${error.code}`,
    title: TITLES[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, error: HeraldError): FastifyReply {
  if (error.code === "unauthorized") reply.header("www-authenticate", 'Bearer realm="herald"');
  // A 503 (the database away, or too much already waiting to be written) passes: come back in a moment.
  if (error.status === 503) reply.header("retry-after", "1");
  applySecurityHeaders(reply);
  return reply.code(error.status).type("application/problem+json").send(JSON.stringify(problemBody(error)));
}

export function errorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = classify(error);
  // A client's error, or a 503 that says why it passes (too much waiting to be written): not Herald's fault.
  if (problem && (problem.status < 500 || problem.status === 503)) return sendProblem(reply, problem);
  if (storeUnavailable(error)) {
    // Not a bug: the database went away for a moment (a restart, a failover, a
    // killed connection). The request may or may not have been committed.
    req.log.warn({ err: error }, "the database is unavailable");
    return sendProblem(reply, new HeraldError("store_unavailable", "the database is unavailable for a moment; retry (a publish with the same Idempotency-Key cannot be stored twice)"));
  }
  req.log.error({ err: error }, "unexpected error");
  return sendProblem(reply, new HeraldError("internal_error", "an unexpected error occurred; see the server log"));
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, new HeraldError("not_found", `no route ${req.method} ${req.url.split("?")[0]!.slice(0, 200)}`));
}
