import { createHash } from "node:crypto";
import { boundedMemo } from "../core/memo.js";
import type { TransformPool } from "./pool.js";
import { readTransformed, type TransformedWebhook, type WebhookInput, webhookJson } from "./webhook.js";

export type TransformOutcome = { ok: true; webhook: TransformedWebhook } | { ok: false; message: string };

/** Code hashes by code text, so a kept handler is found without hashing 64 KiB per attempt. */
const hashOf = boundedMemo(1000, (code) => createHash("sha256").update(code).digest("base64url").slice(0, 22));

/**
 * Runs an endpoint's handler on one webhook and checks what it returned. The
 * compiled handler is kept per (scope, code hash): `scope` is the endpoint's id
 * for deliveries; test runs pass `cache: false`. The message says why a run
 * failed, as the attempt log records it ("handler threw: TypeError: …",
 * "timed out after 100 ms", "handler returned an invalid webhook: …").
 *
 * @example
 * const outcome = await transform(pool, endpoint.id, code, { method: "POST", url, eventType, headers: {}, payload: message.payload });
 */
export async function transform(pool: TransformPool, scope: string, code: string, input: WebhookInput, cache = true): Promise<TransformOutcome> {
  const ran = await pool.run({ key: `${scope}:${hashOf(code)}`, code, input: webhookJson(input), cache });
  if (!ran.ok) return { ok: false, message: ran.message };
  const read = readTransformed(ran.output);
  return "problem" in read ? { ok: false, message: read.problem } : { ok: true, webhook: read };
}
