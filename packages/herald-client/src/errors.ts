import type { components } from "./generated/schema.js";

/** The problem details (RFC 9457) Herald answers an error with. */
export type Problem = components["schemas"]["Problem"];

/** One violation of a `validation_failed` problem: a JSON pointer into the request, and what is wrong there. */
export type ProblemError = NonNullable<Problem["errors"]>[number];

/**
 * An error response of the API, from its `application/problem+json` body:
 * `status` is the HTTP status, `code` Herald's stable error code
 * (`validation_failed`, `not_found`, `unauthorized`, `conflict`,
 * `rate_limited`, …), `errors` the violations of a `validation_failed`.
 *
 * @example
 * try { await client.POST("/api/v1/applications", { body: { name: "" } }); }
 * catch (err) { if (err instanceof HeraldApiError && err.code === "validation_failed") console.log(err.errors); }
 */
export class HeraldApiError extends Error {
  override readonly name = "HeraldApiError";
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly type: string;
  readonly errors: ProblemError[];
  /** The method and path of the request, e.g. `POST /api/v1/applications`. */
  readonly request: string;
  /** The response's headers (e.g. `retry-after` of a 429). */
  readonly headers: Headers;

  constructor(status: number, problem: Partial<Problem>, request: string, headers: Headers = new Headers()) {
    const code = typeof problem.code === "string" ? problem.code : `http_${status}`;
    const detail = typeof problem.detail === "string" ? problem.detail : (problem.title ?? `HTTP ${status}`);
    super(`${request}: ${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.title = typeof problem.title === "string" ? problem.title : "";
    this.detail = detail;
    this.type = typeof problem.type === "string" ? problem.type : "about:blank";
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
    this.request = request;
    this.headers = headers;
  }
}
