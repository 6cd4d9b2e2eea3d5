/**
 * Why a webhook was rejected. The codes are stable: branch on `code`, never
 * on the message, which may be reworded.
 *
 * - `missing_headers`: no signature headers, or a Standard Webhooks header
 *   set with one of `webhook-id`, `webhook-timestamp`, `webhook-signature` absent.
 * - `invalid_timestamp`: `webhook-timestamp` is not a whole number of seconds.
 * - `timestamp_too_old` / `timestamp_too_new`: outside the tolerance (default 300 s).
 * - `invalid_signature`: no signature matches any of the secrets.
 * - `invalid_secret`: a secret given to the verifier is empty or not base64
 *   (a configuration mistake of the receiver, not of the sender).
 * - `invalid_payload`: the signature is valid but the body is not JSON.
 */
export type WebhookVerificationErrorCode =
  | "missing_headers"
  | "invalid_timestamp"
  | "timestamp_too_old"
  | "timestamp_too_new"
  | "invalid_signature"
  | "invalid_secret"
  | "invalid_payload";

/**
 * The one error `herald-receiver` throws for a rejected webhook.
 *
 * @example
 * try {
 *   verifyWebhook(rawBody, req.headers, secret);
 * } catch (err) {
 *   if (err instanceof WebhookVerificationError) console.log(err.code, err.status);
 *   else throw err;
 * }
 */
export class WebhookVerificationError extends Error {
  readonly code: WebhookVerificationErrorCode;

  constructor(code: WebhookVerificationErrorCode, message: string) {
    super(message);
    this.name = "WebhookVerificationError";
    this.code = code;
  }

  /**
   * The HTTP status a receiver should answer with: 401 when the request
   * cannot be trusted, 400 for a signed body that is not JSON, 500 for the
   * receiver's own misconfigured secret (the sender should retry later, once
   * it is fixed). Any non-2xx makes Herald retry the delivery.
   */
  get status(): 400 | 401 | 500 {
    if (this.code === "invalid_payload") return 400;
    if (this.code === "invalid_secret") return 500;
    return 401;
  }
}
