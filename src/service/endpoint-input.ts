import { distinctChannels } from "../core/filters.js";
import { type Static, Type } from "@sinclair/typebox";
import { type FieldError, HeraldError } from "../core/errors.js";
import { BROKER_SCHEMES, brokerUrlProblem } from "../core/broker-url.js";
import { type ApplicationId, newId } from "../core/ids.js";
import type { PayloadFilter } from "../core/payload-filter.js";
import { FILTER_LIMITS, filterProblems } from "../core/payload-filter-check.js";
import { generateSecret, secretProblem } from "../signing/secret.js";
import type { EndpointAuthentication, EndpointTransformation } from "../store/model.js";
import type { EndpointPatch, NewEndpoint } from "../store/store.js";
import { Channel, EventPattern, Metadata, Nullable, Strict, StringEnum } from "../core/schemas.js";

/**
 * Endpoint request bodies: their schemas, the checks a schema cannot express
 * (URL shape, reserved headers, secret format), and their translation into the
 * store's `NewEndpoint` / `EndpointPatch`.
 */

const Url = Type.String({ minLength: 1, maxLength: 2048 });
const HeaderName = Type.String({
  pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$",
  description: "an HTTP header name: 1–256 letters, digits or !#$%&'*+.^_`|~-",
});
const HeaderValue = Type.String({
  maxLength: 4096,
  pattern: "^[\\t\\x20-\\x7e]*$",
  description: "an HTTP header value: printable ASCII, no line breaks",
});
const Credential = Type.String({ minLength: 1, maxLength: 4096 });

const Headers = Type.Unsafe<Record<string, string>>({
  type: "object",
  maxProperties: 32,
  propertyNames: HeaderName,
  additionalProperties: HeaderValue,
});

const Authentication = Type.Unsafe<EndpointAuthentication>({
  type: "object",
  required: ["type"],
  discriminator: { propertyName: "type" },
  oneOf: [
    Strict({ type: Type.Literal("bearer"), token: Credential }),
    Strict({
      type: Type.Literal("basic"),
      username: Type.String({ maxLength: 256, pattern: "^[^:]*$", description: "a user name without ':'" }),
      password: Credential,
    }),
    Strict({ type: Type.Literal("header"), name: HeaderName, value: Type.String({ ...HeaderValue, minLength: 1 }) }),
    Strict({
      type: Type.Literal("oauth2"),
      tokenUrl: Url,
      clientId: Type.String({ minLength: 1, maxLength: 1024 }),
      clientSecret: Credential,
      scope: Type.Optional(Type.String({ maxLength: 1024 })),
    }),
  ],
});

/**
 * A payload filter: its shape is checked by `filterProblems` (which reports
 * each fault at its own path), so the schema only says "an object or null".
 */
const Filter = Type.Unsafe<PayloadFilter | null>({
  anyOf: [{ type: "null" }, { type: "object" }],
  description:
    "A payload filter, evaluated at publish: a message that does not match creates no delivery for this endpoint. " +
    'Mongo-style: keys are dotted paths into the payload ("data.order.status"), values a literal (equality) or an object of ' +
    "operators $eq $ne $gt $gte $lt $lte $in $nin $exists $regex (RE2), combined with $and $or $not. " +
    `At most ${FILTER_LIMITS.maxLength} characters as JSON, ${FILTER_LIMITS.maxDepth} levels deep and ${FILTER_LIMITS.maxConditions} conditions. ` +
    "Null (or {}) means every payload.",
  examples: [{ "data.amount": { $gte: 100 }, "data.currency": { $in: ["EUR", "USD"] } }],
});

/** A transformation as sent: `enabled` defaults to true. */
export interface TransformationInput {
  code: string;
  enabled?: boolean | undefined;
}

/** The longest transformation code accepted, in UTF-8 bytes. */
export const MAX_TRANSFORMATION_BYTES = 64 * 1024;

/**
 * A transformation: its code's size is checked by `check` (a 422 with code
 * `transformation_too_large`), so that the limit is counted in bytes, as stored.
 */
const Transformation = Type.Unsafe<TransformationInput | null>({
  anyOf: [
    { type: "null" },
    {
      type: "object",
      additionalProperties: false,
      required: ["code"],
      properties: {
        code: { type: "string", minLength: 1, description: "JavaScript defining `function handler(webhook) { …; return webhook; }`" },
        enabled: { type: "boolean", default: true, description: "false stores the code without running it. Default: true" },
      },
    },
  ],
  description:
    "JavaScript run in a sandbox before each attempt (docs/delivery.md, Transformations): `function handler(webhook)` gets " +
    "`{method, url, eventType, payload, headers}` and returns it, changed, or with `cancel: true` to send nothing. " +
    `At most ${MAX_TRANSFORMATION_BYTES / 1024} KiB of code. Null removes it.`,
  examples: [{ code: 'function handler(webhook) {\n  webhook.payload = { text: "New order " + webhook.payload.id };\n  return webhook;\n}', enabled: true }],
});

/** Fields settable both at creation and by PATCH. */
const EditableFields = {
  description: Type.Optional(Type.String({ maxLength: 1024 })),
  /** Null, `[]` or any list containing `*` means every event type. */
  events: Type.Optional(Nullable(Type.Array(EventPattern, { maxItems: 100 }))),
  /** Null or `[]` means no channel filter. */
  channels: Type.Optional(Nullable(Type.Array(Channel, { maxItems: 10 }))),
  /** Null or `{}` means no payload filter. */
  filter: Type.Optional(Filter),
  ordering: Type.Optional(
    Type.Unsafe<"none" | "fifo">({
      ...StringEnum(["none", "fifo"] as const),
      description:
        '"fifo": one message at a time, in publish order; the next is not attempted before the previous one succeeded or ended ' +
        '(failed after its whole retry schedule, or skipped). Default "none": concurrent delivery (docs/delivery.md, FIFO endpoints).',
    }),
  ),
  /** Null removes the transformation. */
  transformation: Type.Optional(Transformation),
  headers: Type.Optional(Headers),
  authentication: Type.Optional(Type.Unsafe<EndpointAuthentication | null>({ anyOf: [{ type: "null" }, Authentication] })),
  timeoutMs: Type.Optional(Nullable(Type.Integer({ minimum: 1000, maximum: 30_000 }))),
  rateLimit: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 100_000 }))),
  metadata: Type.Optional(Metadata),
  disabled: Type.Optional(Type.Boolean()),
};

export const EndpointCreateBody = Strict({ url: Url, secret: Type.Optional(Type.String({ maxLength: 256 })), ...EditableFields });
export const EndpointPatchBody = Strict({ url: Type.Optional(Url), ...EditableFields });
export type EndpointCreateInput = Static<typeof EndpointCreateBody>;
export type EndpointPatchInput = Static<typeof EndpointPatchBody>;

/** Headers Herald sets itself, or that only make sense hop by hop. */
const RESERVED_HEADERS = new Set([
  "host",
  "content-length",
  "content-type",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "proxy-authorization",
  "proxy-connection",
  "user-agent",
]);
export const isReservedHeader = (name: string): boolean => {
  const lower = name.toLowerCase();
  return RESERVED_HEADERS.has(lower) || lower.startsWith("webhook-") || lower.startsWith("x-webhook-");
};

/** Why `value` is not an acceptable target URL (HTTP, or a broker of contract §8), or undefined. */
export function urlProblem(value: string, brokers = true): string | undefined {
  if (/[\s\x00-\x1f\x7f]/.test(value)) return "must not contain spaces or control characters";
  const absolute = "must be an absolute URL such as https://example.com/webhooks";
  // WHATWG parsing forgives `https:///path` (host "path"); a target must spell its host.
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#]/i.test(value)) return absolute;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return absolute;
  }
  // Broker URLs (contract §8) carry their connection's credentials; HTTP ones use `authentication`.
  if (brokers && BROKER_SCHEMES.includes(url.protocol)) return brokerUrlProblem(url);
  if (url.protocol !== "https:" && url.protocol !== "http:") return brokers ? "must use http, https, amqp, amqps, nats, tls, redis or rediss" : "must use http or https";
  if (url.username || url.password) return "must not contain credentials; use authentication instead";
  if (!url.hostname) return "must name a host";
  return undefined;
}

/** Collects every problem a schema cannot see; throws one 422 listing them all. */
function check(input: EndpointPatchInput & { secret?: string | undefined }): void {
  const errors: FieldError[] = [];
  const add = (path: string, message: string | undefined) => {
    if (message) errors.push({ path, message });
  };
  if (input.url !== undefined) add("/url", urlProblem(input.url));
  if (input.secret !== undefined) add("/secret", secretProblem(input.secret));
  if (input.filter !== undefined && input.filter !== null) errors.push(...filterProblems(input.filter));
  for (const name of Object.keys(input.headers ?? {})) {
    if (isReservedHeader(name)) add(`/headers/${name}`, "is set by Herald or is hop-by-hop, and cannot be configured");
  }
  const auth = input.authentication;
  if (auth?.type === "oauth2") add("/authentication/tokenUrl", urlProblem(auth.tokenUrl, false));
  if (auth?.type === "oauth2" && input.url !== undefined && BROKER_SCHEMES.some((s) => input.url!.toLowerCase().startsWith(s))) {
    add("/authentication", "oauth2 applies to http(s) endpoints; a broker takes basic or bearer authentication, or credentials in its URL");
  }
  if (auth?.type === "header" && isReservedHeader(auth.name)) {
    add("/authentication/name", "is set by Herald or is hop-by-hop, and cannot be configured");
  }
  if (errors.length === 0 && input.transformation) checkTransformation(input.transformation);
  if (errors.length > 0) {
    throw new HeraldError("validation_failed", errors.map((e) => `${e.path}: ${e.message}`).join("; "), errors);
  }
}

/** Code over the size limit: a 422 of its own code, as a body over the payload limit has `payload_too_large`. */
function checkTransformation(transformation: TransformationInput): void {
  const bytes = Buffer.byteLength(transformation.code, "utf8");
  if (bytes > MAX_TRANSFORMATION_BYTES) {
    throw new HeraldError(
      "transformation_too_large",
      `transformation.code is ${bytes} bytes; at most ${MAX_TRANSFORMATION_BYTES} (${MAX_TRANSFORMATION_BYTES / 1024} KiB) are accepted`,
      [{ path: "/transformation/code", message: `must be at most ${MAX_TRANSFORMATION_BYTES} bytes` }],
    );
  }
}

function normalizeTransformation(t: TransformationInput | null | undefined): EndpointTransformation | null {
  return t ? { code: t.code, enabled: t.enabled ?? true } : null;
}

function normalizeEvents(events: string[] | null | undefined): string[] | null {
  if (!events || events.length === 0 || events.includes("*")) return null;
  return [...new Set(events)];
}

function normalizeFilter(filter: PayloadFilter | null | undefined): PayloadFilter | null {
  return !filter || Object.keys(filter).length === 0 ? null : filter;
}


/** A checked create body → the row to insert (secret generated unless given). */
export function newEndpoint(appId: ApplicationId, input: EndpointCreateInput, now: number): NewEndpoint {
  check(input);
  return {
    id: newId("ep", now),
    appId,
    url: input.url,
    description: input.description ?? "",
    events: normalizeEvents(input.events),
    channels: distinctChannels(input.channels),
    filter: normalizeFilter(input.filter),
    ordering: input.ordering ?? "none",
    transformation: normalizeTransformation(input.transformation),
    status: input.disabled ? "disabled" : "active",
    disabledReason: input.disabled ? "manual" : null,
    secret: input.secret ?? generateSecret(),
    headers: input.headers ?? {},
    authentication: input.authentication ?? null,
    timeoutMs: input.timeoutMs ?? null,
    rateLimit: input.rateLimit ?? null,
    metadata: input.metadata ?? {},
    createdAt: now,
  };
}

/**
 * A checked PATCH body → the store patch: only the fields sent. `disabled` is
 * not among them: it is a status change, made by its own conditional write
 * (`EndpointWrites#update`).
 */
export function endpointPatch(input: EndpointPatchInput): EndpointPatch {
  check(input);
  const patch: EndpointPatch = {};
  if (input.url !== undefined) patch.url = input.url;
  if (input.description !== undefined) patch.description = input.description;
  if (input.events !== undefined) patch.events = normalizeEvents(input.events);
  if (input.channels !== undefined) patch.channels = distinctChannels(input.channels);
  if (input.filter !== undefined) patch.filter = normalizeFilter(input.filter);
  if (input.ordering !== undefined) patch.ordering = input.ordering;
  if (input.transformation !== undefined) patch.transformation = normalizeTransformation(input.transformation);
  if (input.headers !== undefined) patch.headers = input.headers;
  if (input.authentication !== undefined) patch.authentication = input.authentication;
  if (input.timeoutMs !== undefined) patch.timeoutMs = input.timeoutMs;
  if (input.rateLimit !== undefined) patch.rateLimit = input.rateLimit;
  if (input.metadata !== undefined) patch.metadata = input.metadata;
  return patch;
}
