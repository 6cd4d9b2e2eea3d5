/**
 * The one error type of Herald. `code` is stable and part of the contract
 * (it is what problem+json responses carry); `status` is the HTTP status the
 * API layer answers with.
 */
export type ErrorCode =
  | "validation_failed"
  | "too_deep"
  /** An endpoint's transformation code is over its size limit (64 KiB). */
  | "transformation_too_large"
  /** `POST …/transformation/test`: the handler threw, timed out or returned something unusable on the sample. */
  | "transformation_failed"
  | "malformed_json"
  | "malformed_request"
  | "not_found"
  | "unauthorized"
  | "forbidden"
  | "conflict"
  | "invalid_transition"
  | "payment_declined"
  | "payload_too_large"
  | "headers_too_large"
  | "request_timeout"
  | "unsupported_media_type"
  | "rate_limited"
  | "method_not_allowed"
  | "invalid_configuration"
  | "store_unavailable"
  | "overloaded"
  | "internal_error";

export interface FieldError {
  /** JSON pointer-ish path of the offending value, e.g. `/url` or `/events/0`. */
  path: string;
  message: string;
}

const STATUS: Record<ErrorCode, number> = {
  validation_failed: 422,
  too_deep: 422,
  transformation_too_large: 422,
  transformation_failed: 422,
  malformed_json: 400,
  malformed_request: 400,
  not_found: 404,
  unauthorized: 401,
  forbidden: 403,
  conflict: 409,
  invalid_transition: 409,
  payment_declined: 402,
  payload_too_large: 413,
  headers_too_large: 431,
  request_timeout: 408,
  unsupported_media_type: 415,
  rate_limited: 429,
  method_not_allowed: 405,
  invalid_configuration: 500,
  store_unavailable: 503,
  overloaded: 503,
  internal_error: 500,
};

export class HeraldError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly errors: FieldError[] | undefined;

  constructor(code: ErrorCode, message: string, errors?: FieldError[]) {
    super(message);
    this.name = "HeraldError";
    this.code = code;
    this.status = STATUS[code];
    this.errors = errors;
  }
}

export const notFound = (what: string, id: string): HeraldError =>
  new HeraldError("not_found", `${what} ${JSON.stringify(id)} does not exist`);

export const invalid = (path: string, message: string): HeraldError =>
  new HeraldError("validation_failed", `${path}: ${message}`, [{ path, message }]);

/** Bad configuration: start-up stops with its message, one line naming the setting and the accepted form (exit code 2). */
export class ConfigError extends Error {
  override name = "ConfigError";
}
