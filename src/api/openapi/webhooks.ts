import type { EventType } from "../../store/model.js";

/**
 * One `webhooks` entry per catalog event type: the request Herald sends to a
 * receiver (contract §4), with the type's payload schema, examples and the
 * signature headers.
 */

type Json = Record<string, unknown>;

const header = (description: string, schema: Json, required = true): Json => ({ in: "header", required, description, schema });

/** `components.parameters`: the headers of every delivery. */
export const SIGNATURE_HEADERS: Record<string, Json> = {
  WebhookId: { name: "webhook-id", ...header("The message id, the same on every retry: the receiver's idempotency key.", { type: "string" }) },
  WebhookTimestamp: { name: "webhook-timestamp", ...header("Unix seconds of this attempt.", { type: "string", pattern: "^[0-9]+$" }) },
  WebhookSignature: {
    name: "webhook-signature",
    ...header(
      "Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed by the base64-decoded part of the endpoint secret; space-separated, one per valid secret during a rotation.",
      { type: "string" },
    ),
  },
  XWebhookSignature: {
    name: "x-webhook-signature",
    ...header("Lowercase hex HMAC-SHA256 of the raw body, keyed by the UTF-8 bytes of the whole secret string (`whsec_…`), from the newest secret.", {
      type: "string",
      pattern: "^[0-9a-f]{64}$",
    }),
  },
  XWebhookEvent: { name: "x-webhook-event", ...header("The event type.", { type: "string" }) },
  XWebhookId: { name: "x-webhook-id", ...header("The message id (same as webhook-id).", { type: "string" }) },
  XWebhookAttempt: { name: "x-webhook-attempt", ...header("1 for the first attempt of this message to this endpoint, then 2, 3, …", { type: "string", pattern: "^[1-9][0-9]*$" }) },
};

const headerRefs = Object.keys(SIGNATURE_HEADERS).map((name) => ({ $ref: `#/components/parameters/${name}` }));

/**
 * A schema with `#…` references resolves them against its own root only if it
 * is its own resource: give it an `$id` when it has none (embedded in the
 * document, `#/definitions/x` would otherwise point into the document).
 */
function payloadSchema(type: EventType): Json {
  if (type.schema === null) return {};
  const schema = type.schema as Json;
  if (schema.$id === undefined && JSON.stringify(schema).includes('"$ref":"#')) {
    return { $id: `urn:herald:event-type:${encodeURIComponent(type.name)}`, ...schema };
  }
  return schema;
}

export function webhookEntry(type: EventType): Json {
  const examples = Object.fromEntries(type.examples.map((value, i) => [`example${i + 1}`, { value }]));
  return {
    operationId: `webhook.${type.name}`,
    summary: type.name,
    ...(type.description ? { description: type.description } : {}),
    ...(type.archived ? { deprecated: true } : {}),
    tags: ["Webhooks"],
    security: [],
    parameters: headerRefs,
    requestBody: {
      required: true,
      description: `The payload as published, compact JSON, identical on every attempt.${type.schema === null ? " (No schema in the catalog.)" : ""}`,
      content: { "application/json": { schema: payloadSchema(type), ...(type.examples.length > 0 ? { examples } : {}) } },
    },
    responses: {
      "2XX": { description: "Received: the delivery succeeded." },
      "410": { description: "Gone: Herald disables the endpoint at once." },
      default: { description: "Anything else (or a timeout) is a failure, retried on Herald's schedule; `Retry-After` on 429/503 is honoured." },
    },
  };
}
