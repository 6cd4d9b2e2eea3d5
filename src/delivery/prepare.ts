import { boundedMemo } from "../core/memo.js";
import type { DeliveryJob } from "../store/store.js";
import type { TransformPool } from "../transform/pool.js";
import { transform } from "../transform/run.js";
import { webhookOf } from "../transform/webhook.js";
import { failedResult, type PreparedAttempt, type SendResult } from "./destinations/index.js";
import { attemptHeaders, oauth2Request } from "./request.js";

/** Endpoint URLs parsed once (they change rarely); the destinations only read them, never change them. */
const parsedUrl = boundedMemo(10_000, (url: string) => new URL(url));

/** An attempt ready to send, or one that ends here: its transformation failed, or cancelled it. `url` is what the attempt log records. */
export type Preparation =
  | { kind: "send"; url: string; attempt: PreparedAttempt }
  | { kind: "failed"; url: string; result: SendResult }
  | { kind: "cancelled"; url: string; result: SendResult };

/**
 * Prepares one attempt the same way for every destination: the endpoint's
 * transformation first (when it has an enabled one), then the headers of
 * contract §4 signed over the body that will be sent, which is the transformed
 * payload's JSON when there is a transformation and the stored bytes otherwise.
 * The handler's headers come first and Herald's own win, as with an
 * endpoint's custom headers; a changed URL goes through the SSRF guard at
 * connect time like any other.
 */
export async function prepareAttempt(
  job: DeliveryJob,
  attemptNumber: number,
  now: number,
  traceparent: string | null,
  defaultTimeoutMs: number,
  transforms: TransformPool,
): Promise<Preparation> {
  const { endpoint, message } = job;
  const common = { timeoutMs: endpoint.timeoutMs ?? defaultTimeoutMs, oauth2: oauth2Request(endpoint) };
  const transformation = endpoint.transformation;
  if (!transformation?.enabled) {
    return {
      kind: "send",
      url: endpoint.url,
      attempt: { url: parsedUrl(endpoint.url), headers: attemptHeaders(job, attemptNumber, now, traceparent), body: message.payload, ...common },
    };
  }
  const started = performance.now();
  const outcome = await transform(transforms, endpoint.id, transformation.code, webhookOf(endpoint, message.eventType, message.payload));
  const durationMs = Math.round(performance.now() - started);
  if (!outcome.ok) return { kind: "failed", url: endpoint.url, result: failedResult("transformation_failed", outcome.message, durationMs) };
  const webhook = outcome.webhook;
  if (webhook.cancel) {
    const result = failedResult("cancelled", "cancelled by the endpoint's transformation: nothing was sent", durationMs);
    return { kind: "cancelled", url: webhook.url, result };
  }
  const headers = attemptHeaders(job, attemptNumber, now, traceparent, webhook);
  return { kind: "send", url: webhook.url, attempt: { url: new URL(webhook.url), method: webhook.method, headers, body: webhook.body, ...common } };
}
