import type { ApplicationId, AttemptId, DeliveryId, EndpointId, EventTypeId, MessageId } from "../../core/ids.js";
import type {
  Application,
  Attempt,
  AttemptErrorKind,
  Delivery,
  DeliveryStatus,
  DisabledReason,
  Endpoint,
  EndpointStatus,
  EventType,
  Message,
} from "../model.js";

/**
 * Row shapes as both stores read them (PostgreSQL casts its columns to these shapes: numbers as
 * float8, JSON as text, so every client parses alike), and their mapping to the model.
 */

const json = <T>(text: string | null, fallback: T): T => (text === null ? fallback : (JSON.parse(text) as T));

export interface ApplicationRow {
  id: string;
  uid: string | null;
  name: string;
  metadata: string;
  portal: string | null;
  created_at: number;
  updated_at: number;
}

export const toApplication = (r: ApplicationRow): Application => ({
  id: r.id as ApplicationId,
  uid: r.uid,
  name: r.name,
  metadata: json(r.metadata, {}),
  portal: json(r.portal, null),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface EventTypeRow {
  id: string;
  name: string;
  description: string;
  schema: string | null;
  examples: string;
  archived: number;
  created_at: number;
  updated_at: number;
}

export const toEventType = (r: EventTypeRow): EventType => ({
  id: r.id as EventTypeId,
  name: r.name,
  description: r.description,
  schema: json(r.schema, null),
  examples: json(r.examples, []),
  archived: r.archived === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface EndpointRow {
  id: string;
  app_id: string;
  url: string;
  description: string;
  events: string | null;
  channels: string | null;
  filter: string | null;
  /** Absent only from rows read before migration 8. */
  ordering?: string;
  transformation: string | null;
  status: string;
  disabled_reason: string | null;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: number | null;
  headers: string;
  authentication: string | null;
  timeout_ms: number | null;
  rate_limit: number | null;
  metadata: string;
  last_success_at: number | null;
  created_at: number;
  updated_at: number;
}

export const toEndpoint = (r: EndpointRow): Endpoint => ({
  id: r.id as EndpointId,
  appId: r.app_id as ApplicationId,
  url: r.url,
  description: r.description,
  events: json(r.events, null),
  channels: json(r.channels, null),
  filter: json(r.filter, null),
  ordering: r.ordering === "fifo" ? "fifo" : "none",
  transformation: json(r.transformation, null),
  status: r.status as EndpointStatus,
  disabledReason: r.disabled_reason as DisabledReason | null,
  secret: r.secret,
  previousSecret: r.previous_secret,
  previousSecretExpiresAt: r.previous_secret_expires_at,
  headers: json(r.headers, {}),
  authentication: json(r.authentication, null),
  timeoutMs: r.timeout_ms,
  rateLimit: r.rate_limit,
  metadata: json(r.metadata, {}),
  lastSuccessAt: r.last_success_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface MessageRow {
  id: string;
  app_id: string;
  event_type: string;
  event_id: string | null;
  payload: string;
  channels: string | null;
  created_at: number;
}

export const toMessage = (r: MessageRow): Message => ({
  id: r.id as MessageId,
  appId: r.app_id as ApplicationId,
  eventType: r.event_type,
  eventId: r.event_id,
  payload: r.payload,
  channels: json(r.channels, null),
  createdAt: r.created_at,
});

export interface DeliveryRow {
  id: string;
  message_id: string;
  endpoint_id: string;
  app_id: string;
  status: string;
  attempts: number;
  schedule_index: number;
  next_attempt_at: number | null;
  cycle_started_at: number | null;
  last_attempt_at: number | null;
  created_at: number;
  updated_at: number;
}

export const toDelivery = (r: DeliveryRow): Delivery => ({
  id: r.id as DeliveryId,
  messageId: r.message_id as MessageId,
  endpointId: r.endpoint_id as EndpointId,
  appId: r.app_id as ApplicationId,
  status: r.status as DeliveryStatus,
  attempts: r.attempts,
  scheduleIndex: r.schedule_index,
  nextAttemptAt: r.next_attempt_at,
  cycleStartedAt: r.cycle_started_at,
  lastAttemptAt: r.last_attempt_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface AttemptRow {
  id: string;
  delivery_id: string;
  message_id: string;
  endpoint_id: string;
  app_id: string;
  attempt_number: number;
  url: string;
  created_at: number;
  duration_ms: number;
  success: number;
  status_code: number | null;
  response_headers: string | null;
  response_body: string | null;
  error_kind: string | null;
  error_message: string | null;
}

export const toAttempt = (r: AttemptRow): Attempt => ({
  id: r.id as AttemptId,
  deliveryId: r.delivery_id as DeliveryId,
  messageId: r.message_id as MessageId,
  endpointId: r.endpoint_id as EndpointId,
  appId: r.app_id as ApplicationId,
  attemptNumber: r.attempt_number,
  url: r.url,
  createdAt: r.created_at,
  durationMs: r.duration_ms,
  success: r.success === 1,
  statusCode: r.status_code,
  responseHeaders: json(r.response_headers, null),
  responseBody: r.response_body,
  errorKind: r.error_kind as AttemptErrorKind | null,
  errorMessage: r.error_message,
});

/** Serializes a nullable JSON column. */
export const jsonOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : JSON.stringify(value));

/** A patch without its `undefined` fields, so spreading it keeps current values. */
export function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}
