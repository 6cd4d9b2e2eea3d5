import { HeraldError } from "../core/errors.js";
import { checkJsonValue } from "../core/json-limits.js";
import { MAX_TRANSFORMATION_BYTES } from "../service/endpoint-input.js";
import type { Endpoint } from "../store/model.js";
import type { TransformPool } from "./pool.js";
import { transform } from "./run.js";
import { type TransformedWebhook, webhookOf } from "./webhook.js";

/** A sample to run a handler on (`POST …/transformation/test`). */
export interface TransformationSample {
  eventType: string;
  payload: unknown;
  /** The code to try; default: the endpoint's stored transformation (enabled or not). */
  code?: string | undefined;
}

/** What the handler made of the sample: the request that would be sent (before Herald's own headers), or `cancel`. */
export type TransformationTrial = Omit<TransformedWebhook, "body">;

/**
 * Runs code on a sample as a delivery to this endpoint would (same sandbox,
 * same limits, same checks of the answer), without sending or storing
 * anything, and without keeping the compiled handler. A handler that fails is
 * a 422 `transformation_failed` whose detail is the message an attempt would
 * record; an endpoint with no code and none sent is a 422 `validation_failed`.
 *
 * @example
 * await tryTransformation(pool, endpoint, { eventType: "order.created", payload: { id: 1 }, code });
 * // → { method: "POST", url: "https://…", eventType: "order.created", payload: {…}, headers: {}, cancel: false }
 */
export async function tryTransformation(pool: TransformPool, endpoint: Endpoint, sample: TransformationSample, maxPayloadBytes: number): Promise<TransformationTrial> {
  const code = sample.code ?? endpoint.transformation?.code;
  if (code === undefined) {
    throw new HeraldError("validation_failed", "/code: this endpoint has no transformation; send the code to try", [
      { path: "/code", message: "required: this endpoint has no transformation" },
    ]);
  }
  const bytes = Buffer.byteLength(code, "utf8");
  if (bytes > MAX_TRANSFORMATION_BYTES) {
    throw new HeraldError("transformation_too_large", `code is ${bytes} bytes; at most ${MAX_TRANSFORMATION_BYTES} (${MAX_TRANSFORMATION_BYTES / 1024} KiB) are accepted`);
  }
  checkJsonValue(sample.payload, "/payload", "the payload");
  const payload = JSON.stringify(sample.payload);
  if (Buffer.byteLength(payload) > maxPayloadBytes) throw new HeraldError("payload_too_large", `payload: larger than ${maxPayloadBytes} bytes`);
  const outcome = await transform(pool, `try:${endpoint.id}`, code, webhookOf(endpoint, sample.eventType, payload), false);
  if (!outcome.ok) throw new HeraldError("transformation_failed", outcome.message);
  const { method, url, eventType, payload: out, headers, cancel } = outcome.webhook;
  return { method, url, eventType, payload: out, headers, cancel };
}
