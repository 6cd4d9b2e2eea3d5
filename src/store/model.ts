import type { PayloadFilter } from "../core/payload-filter.js";
import type { AdminKeyId, ApplicationId, AttemptId, DeliveryId, EndpointId, EventTypeId, MessageId, OperationalEventId } from "../core/ids.js";

/** Rows as the store returns them. Times are epoch milliseconds; the API formats them. */

export type Metadata = Record<string, string>;

export interface Application {
  id: ApplicationId;
  uid: string | null;
  name: string;
  metadata: Metadata;
  /** The consumer portal's theme and embedding settings; null or absent: Herald's own look, no framing. */
  portal?: PortalSettings | null;
  createdAt: number;
  updatedAt: number;
}

/** An application's consumer-portal settings (docs/portal.md). Every field is optional. */
export interface PortalSettings {
  /** Shown as the portal's title instead of the application's name. */
  name?: string;
  /** An `https:` URL or a `data:image/…;base64,` URL, shown beside the name. */
  logoUrl?: string;
  /** `#rrggbb`: buttons, links and focus rings in light mode. */
  accentColor?: string;
  /** `#rrggbb`: the same in dark mode (default: `accentColor`). */
  accentColorDark?: string;
  /** Origins allowed to embed the portal in a frame (CSP `frame-ancestors`); none: framing refused. */
  frameAncestors?: string[];
}

export interface EventType {
  id: EventTypeId;
  name: string;
  description: string;
  schema: object | null;
  examples: unknown[];
  archived: boolean;
  createdAt: number;
  updatedAt: number;
}

export type EndpointAuthentication =
  | { type: "bearer"; token: string }
  | { type: "basic"; username: string; password: string }
  | { type: "header"; name: string; value: string }
  | { type: "oauth2"; tokenUrl: string; clientId: string; clientSecret: string; scope?: string };

export type EndpointStatus = "active" | "disabled";
export type DisabledReason = "manual" | "failing" | "gone";

/** How an endpoint's messages are ordered: `none` (concurrent) or `fifo` (one at a time, in publish order). */
export type EndpointOrdering = "none" | "fifo";

export interface Endpoint {
  id: EndpointId;
  appId: ApplicationId;
  url: string;
  description: string;
  /** Event-type filters; null = every event type. */
  events: string[] | null;
  /** Channel filters; null = every message regardless of channel. */
  channels: string[] | null;
  /** The payload filter (docs/delivery.md, "Filters"); null = every payload. */
  filter: PayloadFilter | null;
  /**
   * `fifo`: one message at a time, in publish order (docs/delivery.md, "FIFO
   * endpoints"); `none`: concurrent delivery. Default `none`.
   */
  ordering: EndpointOrdering;
  /** The transformation (docs/delivery.md, "Transformations"); null = none. */
  transformation: EndpointTransformation | null;
  status: EndpointStatus;
  disabledReason: DisabledReason | null;
  /** The newest secret (full). */
  secret: string;
  /** The secret replaced by the last rotation, still signing until `previousSecretExpiresAt`. */
  previousSecret: string | null;
  previousSecretExpiresAt: number | null;
  headers: Record<string, string>;
  authentication: EndpointAuthentication | null;
  /** Per-attempt timeout override; null = the server's `HERALD_REQUEST_TIMEOUT`. */
  timeoutMs: number | null;
  /** Max requests per second to this endpoint; null = unlimited. */
  rateLimit: number | null;
  metadata: Metadata;
  /** Time of the last successful attempt to this endpoint. */
  lastSuccessAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface Message {
  id: MessageId;
  appId: ApplicationId;
  eventType: string;
  /** The producer's idempotency key (`Idempotency-Key` header or body `id`). */
  eventId: string | null;
  /** The payload exactly as it is sent: compact JSON, serialized once. */
  payload: string;
  channels: string[] | null;
  createdAt: number;
  /**
   * The W3C `traceparent` of the span that published it, when tracing is on:
   * written with the message, read back with each delivery so that every
   * attempt's span is its child. Not part of the API's message object.
   */
  traceContext?: string | null;
}

export type DeliveryStatus = "pending" | "succeeded" | "failed" | "skipped";

/** One message to one endpoint. */
export interface Delivery {
  id: DeliveryId;
  messageId: MessageId;
  endpointId: EndpointId;
  appId: ApplicationId;
  status: DeliveryStatus;
  /** Attempts made so far, over the delivery's whole life (drives `x-webhook-attempt`). */
  attempts: number;
  /** Position in the retry schedule of the next attempt; reset by resend/recover. */
  scheduleIndex: number;
  /** When the next attempt is due (or, while leased, when the lease runs out). */
  nextAttemptAt: number | null;
  /** Time of the first attempt of the current schedule run (for the `failing` rule). */
  cycleStartedAt: number | null;
  lastAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** JavaScript run on each attempt before it is signed: `function handler(webhook) { …; return webhook; }`. */
export interface EndpointTransformation {
  code: string;
  /** Stored but not run when false (so code can be written and tested before it goes live). */
  enabled: boolean;
}

export type AttemptErrorKind =
  | "timeout"
  | "connection_refused"
  | "connection_reset"
  | "dns"
  | "tls"
  | "blocked"
  /** An `oauth2` endpoint's token could not be had (the token endpoint refused, failed or timed out), or a broker refused the URL's credentials. */
  | "auth"
  | "redirect"
  | "http_status"
  | "network"
  /** The endpoint's URL scheme has no destination in this Herald (the API refuses such URLs; a safety net). */
  | "unsupported_destination"
  /** The endpoint's transformation threw, timed out, ran out of memory or returned something unusable; retried on the schedule. */
  | "transformation_failed"
  /** The endpoint's transformation set `cancel: true`: nothing was sent, the delivery is `skipped`, no retry. */
  | "cancelled"
  /** A broker (RabbitMQ, NATS JetStream, Redis) answered but did not take the message: a nack, no route or stream, a refused publish; the message says which. */
  | "broker_rejected"
  /** A fault inside Herald while making the attempt (a bug, a stored value it could not use); retried on the schedule. */
  | "internal";

/** One HTTP attempt. Append-only. */
export interface Attempt {
  id: AttemptId;
  deliveryId: DeliveryId;
  messageId: MessageId;
  endpointId: EndpointId;
  appId: ApplicationId;
  /** 1-based, as sent in `x-webhook-attempt`. */
  attemptNumber: number;
  url: string;
  createdAt: number;
  durationMs: number;
  success: boolean;
  statusCode: number | null;
  responseHeaders: Record<string, string> | null;
  /** First 4 KiB of the response body (UTF-8, lossy). */
  responseBody: string | null;
  errorKind: AttemptErrorKind | null;
  errorMessage: string | null;
}

/** An admin API key created through the API. Only the SHA-256 of the key is stored. */
export interface AdminKey {
  id: AdminKeyId;
  name: string;
  /** Lowercase hex SHA-256 of the key string. */
  keyHash: string;
  createdAt: number;
}

export type OperationalEventType =
  | "endpoint.created"
  | "endpoint.updated"
  | "endpoint.deleted"
  | "endpoint.disabled"
  | "endpoint.enabled"
  | "message.attempt.failing"
  | "message.attempt.exhausted"
  | "message.attempt.recovered";

/** One of Herald's own events about endpoints and deliveries (contract §5), as recorded for the dashboard. */
export interface OperationalEvent {
  id: OperationalEventId;
  type: OperationalEventType;
  appId: ApplicationId;
  endpointId: EndpointId;
  /** Set for `message.attempt.*`. */
  messageId: MessageId | null;
  /** The event's `data` object, exactly as published to the operational webhook. */
  data: Record<string, unknown>;
  createdAt: number;
}
