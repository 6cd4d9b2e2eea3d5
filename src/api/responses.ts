import { type TSchema, Type } from "@sinclair/typebox";
import { Nullable, StringEnum } from "../core/schemas.js";
import type { AttemptErrorKind } from "../store/model.js";
import { PortalSettings } from "../service/portal-settings.js";

/**
 * The objects the API answers with, as JSON Schemas. They document the API in
 * `/openapi.json` (each is a named component there) and type the route
 * handlers' replies; they do not change what is sent (the server serializes
 * with plain `JSON.stringify`).
 */

const Str = Type.String();
const Time = Type.String({ format: "date-time" });
const NullableTime = Nullable(Type.String({ format: "date-time" }));
const Strings = Type.Record(Type.String(), Type.String());

export const Application = Type.Object(
  {
    id: Str,
    name: Str,
    uid: Nullable(Str),
    metadata: Strings,
    portal: Nullable(PortalSettings),
    createdAt: Time,
    updatedAt: Time,
  },
  { title: "Application" },
);

export const EventType = Type.Object(
  {
    id: Str,
    name: Str,
    description: Str,
    schema: Type.Unsafe<object | null>({ description: "JSON Schema of the payload, or null" }),
    examples: Type.Array(Type.Unknown()),
    archived: Type.Boolean(),
    createdAt: Time,
    updatedAt: Time,
  },
  { title: "EventType" },
);

const MaskedAuthentication = Type.Unsafe<
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string }
  | { type: "header"; name: string; value: string }
  | { type: "oauth2"; tokenUrl: string; clientId: string; clientSecret: string; scope?: string }
  | null
>({
  description: "Outgoing authentication; credentials are masked (first four characters and …)",
  oneOf: [
    { type: "null" },
    { type: "object", required: ["type", "token"], properties: { type: { const: "bearer" }, token: { type: "string" } } },
    { type: "object", required: ["type", "username", "password"], properties: { type: { const: "basic" }, username: { type: "string" }, password: { type: "string" } } },
    { type: "object", required: ["type", "name", "value"], properties: { type: { const: "header" }, name: { type: "string" }, value: { type: "string" } } },
    {
      type: "object",
      required: ["type", "tokenUrl", "clientId", "clientSecret"],
      properties: { type: { const: "oauth2" }, tokenUrl: { type: "string" }, clientId: { type: "string" }, clientSecret: { type: "string" }, scope: { type: "string" } },
    },
  ],
});

export const Endpoint = Type.Object(
  {
    id: Str,
    url: Str,
    description: Str,
    events: Type.Array(Str, { description: 'event types or patterns; ["*"] for every event type' }),
    channels: Nullable(Type.Array(Str)),
    filter: Type.Unsafe<Record<string, unknown> | null>({
      type: ["object", "null"],
      additionalProperties: true,
      description: "the payload filter (docs/delivery.md, Filters); null for every payload",
    }),
    ordering: StringEnum(["none", "fifo"] as const),
    transformation: Nullable(
      Type.Object(
        { code: Str, enabled: Type.Boolean() },
        { description: "the transformation run before each attempt (docs/delivery.md, Transformations); null for none" },
      ),
    ),
    status: StringEnum(["active", "disabled"] as const),
    secret: Type.String({ description: "in full only in the create response; masked (whsec_abcd…) elsewhere" }),
    headers: Strings,
    authentication: MaskedAuthentication,
    timeoutMs: Nullable(Type.Integer()),
    rateLimit: Nullable(Type.Integer()),
    metadata: Strings,
    disabledReason: Type.Unsafe<"manual" | "failing" | "gone" | null>({ type: ["string", "null"], enum: ["manual", "failing", "gone", null] }),
    createdAt: Time,
    updatedAt: Time,
  },
  { title: "Endpoint" },
);

export const Message = Type.Object(
  { id: Str, eventType: Str, eventId: Nullable(Str), payload: Type.Unknown(), channels: Nullable(Type.Array(Str)), timestamp: Time },
  { title: "Message" },
);

const DeliveryStatus = StringEnum(["pending", "succeeded", "failed", "skipped"] as const);

export const Delivery = Type.Object(
  {
    id: Str,
    messageId: Str,
    endpointId: Str,
    status: DeliveryStatus,
    attempts: Type.Integer(),
    nextAttemptAt: NullableTime,
    lastAttemptAt: NullableTime,
    createdAt: Time,
    updatedAt: Time,
  },
  { title: "Delivery" },
);

/** Every error kind an attempt records (a `Record`, so a kind added to the store's union must be added here). */
const ERROR_KINDS: Record<AttemptErrorKind, true> = {
  timeout: true,
  connection_refused: true,
  connection_reset: true,
  dns: true,
  tls: true,
  blocked: true,
  auth: true,
  redirect: true,
  http_status: true,
  network: true,
  unsupported_destination: true,
  broker_rejected: true,
  transformation_failed: true,
  cancelled: true,
  internal: true,
};

export const Attempt = Type.Object(
  {
    id: Str,
    messageId: Str,
    endpointId: Str,
    attemptNumber: Type.Integer(),
    url: Str,
    timestamp: Time,
    durationMs: Type.Integer(),
    success: Type.Boolean(),
    statusCode: Nullable(Type.Integer()),
    responseHeaders: Type.Unsafe<Record<string, string> | null>({ type: ["object", "null"], additionalProperties: { type: "string" } }),
    responseBody: Nullable(Str),
    errorKind: Nullable(StringEnum(Object.keys(ERROR_KINDS) as AttemptErrorKind[])),
    errorMessage: Nullable(Str),
  },
  { title: "Attempt" },
);

const NullableNumber = Nullable(Type.Number());

export const EndpointStats = Type.Object(
  {
    since: Time,
    attempts: Type.Integer(),
    succeeded: Type.Integer(),
    failed: Type.Integer(),
    successRate: NullableNumber,
    latency: Type.Object({ p50: NullableNumber, p90: NullableNumber, p99: NullableNumber }),
    deliveries: Type.Record(Type.String(), Type.Integer()),
    series: Type.Array(Type.Object({ t: Time, succeeded: Type.Integer(), failed: Type.Integer(), p50: NullableNumber })),
  },
  { title: "EndpointStats" },
);

export const AdminKey = Type.Object({ id: Str, name: Str, createdAt: Time }, { title: "AdminKey" });
export const NewAdminKey = Type.Object(
  { id: Str, name: Str, key: Type.String({ description: "the key itself: shown only in this response" }), createdAt: Time },
  { title: "NewAdminKey" },
);

export const PortalToken = Type.Object(
  {
    token: Type.String({ description: "bearer token scoped to one application" }),
    url: Type.String({ description: "opens the consumer portal for that application" }),
    expiresAt: Time,
  },
  { title: "PortalToken" },
);

export const OperationalEvent = Type.Object(
  {
    id: Str,
    type: Str,
    appId: Str,
    endpointId: Str,
    messageId: Nullable(Str),
    data: Type.Record(Type.String(), Type.Unknown()),
    timestamp: Time,
  },
  { title: "OperationalEvent" },
);

export const Problem = Type.Object(
  {
    type: Str,
    title: Str,
    status: Type.Integer(),
    detail: Str,
    code: Type.String({ description: "stable error code: validation_failed, not_found, unauthorized, forbidden, conflict, rate_limited, …" }),
    errors: Type.Optional(Type.Array(Type.Object({ path: Str, message: Str }))),
  },
  { title: "Problem" },
);

export const TransformationTrial = Type.Object(
  {
    method: StringEnum(["POST", "PUT", "PATCH"] as const),
    url: Str,
    eventType: Str,
    payload: Type.Unsafe<Record<string, unknown>>({ type: "object", additionalProperties: true }),
    headers: Type.Record(Type.String(), Type.String(), { description: "the handler's headers; Herald's own (signatures, ids, content-type) are added when it sends" }),
    cancel: Type.Boolean({ description: "true: a delivery would send nothing (the delivery is recorded skipped)" }),
  },
  { title: "TransformationTrial" },
);

export const Secret = Type.Object({ secret: Str }, { title: "EndpointSecret" });

/** A page of a list: `{data, nextCursor}`. */
export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ data: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()], { description: "pass as ?cursor= for the next page; null on the last" }) });

/** One row of the operator's triage list (`GET /endpoints/triage`). */
export const TriageEntry = Type.Object(
  {
    endpoint: Type.Object({
      id: Str,
      appId: Str,
      url: Str,
      description: Str,
      status: Type.Unsafe<"active" | "disabled">({ type: "string", enum: ["active", "disabled"] }),
      disabledReason: Nullable(Type.String({ description: "manual, failing or gone" })),
      lastSuccessAt: NullableTime,
      createdAt: Time,
    }),
    application: Type.Object({ id: Str, name: Str, uid: Nullable(Str) }),
    state: Type.Unsafe<"disabled" | "failing">({ type: "string", enum: ["disabled", "failing"], description: "disabled, or active with a failed newest attempt" }),
    since: Nullable(Type.String({ format: "date-time", description: "disabled: when; failing: the first attempt after the last success" })),
    failingSince: NullableTime,
    disabledAt: NullableTime,
    lastAttempt: Nullable(
      Type.Object({
        id: Str,
        messageId: Str,
        timestamp: Time,
        success: Type.Boolean(),
        statusCode: Nullable(Type.Integer()),
        errorKind: Nullable(Str),
        errorMessage: Nullable(Str),
        attemptNumber: Type.Integer(),
      }),
    ),
    window: Type.Object({
      since: Time,
      attempts: Type.Integer(),
      succeeded: Type.Integer(),
      successRate: Nullable(Type.Number({ description: "succeeded / attempts; null without attempts" })),
    }),
    backlog: Type.Object({ pending: Type.Integer(), skipped: Type.Integer() }),
    action: Type.Unsafe<"enable" | "recover" | "open">({
      type: "string",
      enum: ["enable", "recover", "open"],
      description: "what to do first: enable a disabled endpoint; recover the skipped deliveries of an active one; open the endpoint to read its errors",
    }),
  },
  { title: "TriageEntry" },
);

/** A 204 answer: no body. */
export const NoContent = Type.Unsafe<undefined>({ description: "No content" });

/** The named components of the OpenAPI document: each, wherever it appears, becomes a `$ref`. */
export const COMPONENTS: Readonly<Record<string, TSchema>> = {
  Application,
  EventType,
  Endpoint,
  EndpointSecret: Secret,
  Message,
  Delivery,
  Attempt,
  EndpointStats,
  TransformationTrial,
  AdminKey,
  NewAdminKey,
  PortalToken,
  OperationalEvent,
  TriageEntry,
  Problem,
};
