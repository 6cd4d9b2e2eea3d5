import { withoutCredentials } from "../core/broker-url.js";
import { maskSecret } from "../signing/secret.js";
import type { Application, Attempt, Delivery, Endpoint, EndpointAuthentication, EventType, Message } from "../store/model.js";
import type { EndpointStats } from "../store/store.js";

/**
 * Rows → API objects. Times become ISO-8601 strings; secrets and credentials
 * are masked unless a route asks for them on purpose.
 */

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

/**
 * Shows the first four characters of a long credential and nothing of a short one
 * (where four characters would be most of it).
 */
export function maskCredential(value: string): string {
  return value.length >= 12 ? `${value.slice(0, 4)}…` : "…";
}

export function serializeAuthentication(auth: EndpointAuthentication | null) {
  if (auth === null) return null;
  switch (auth.type) {
    case "bearer":
      return { type: auth.type, token: maskCredential(auth.token) };
    case "basic":
      return { type: auth.type, username: auth.username, password: maskCredential(auth.password) };
    case "header":
      return { type: auth.type, name: auth.name, value: maskCredential(auth.value) };
    case "oauth2":
      return {
        type: auth.type,
        tokenUrl: auth.tokenUrl,
        clientId: auth.clientId,
        clientSecret: maskCredential(auth.clientSecret),
        ...(auth.scope === undefined ? {} : { scope: auth.scope }),
      };
  }
}

export function serializeApplication(app: Application) {
  return {
    id: app.id,
    name: app.name,
    uid: app.uid,
    metadata: app.metadata,
    portal: app.portal ?? null,
    createdAt: iso(app.createdAt),
    updatedAt: iso(app.updatedAt),
  };
}

export function serializeEventType(type: EventType) {
  return {
    id: type.id,
    name: type.name,
    description: type.description,
    schema: type.schema,
    examples: type.examples,
    archived: type.archived,
    createdAt: iso(type.createdAt),
    updatedAt: iso(type.updatedAt),
  };
}

/**
 * `events` is `["*"]` when the endpoint takes every event type (stored as null).
 * `secret` is masked unless `showSecret` (the create response only); a broker
 * URL's password or token shows as `***`, like every other credential.
 */
export function serializeEndpoint(ep: Endpoint, showSecret = false) {
  return {
    id: ep.id,
    url: withoutCredentials(ep.url),
    description: ep.description,
    events: ep.events ?? ["*"],
    channels: ep.channels,
    filter: ep.filter,
    ordering: ep.ordering,
    transformation: ep.transformation,
    status: ep.status,
    secret: showSecret ? ep.secret : maskSecret(ep.secret),
    headers: ep.headers,
    authentication: serializeAuthentication(ep.authentication),
    timeoutMs: ep.timeoutMs,
    rateLimit: ep.rateLimit,
    metadata: ep.metadata,
    disabledReason: ep.disabledReason,
    createdAt: iso(ep.createdAt),
    updatedAt: iso(ep.updatedAt),
  };
}

export function serializeMessage(message: Message) {
  return {
    id: message.id,
    eventType: message.eventType,
    eventId: message.eventId,
    payload: JSON.parse(message.payload) as unknown,
    channels: message.channels,
    timestamp: iso(message.createdAt),
  };
}

/** The last timestamp `messageJson` wrote: the messages of one bulk publish share their creation time. */
let lastStamp = { ms: Number.NaN, json: "" };

/** `serializeMessage` as JSON text, the stored payload embedded as it is (it is compact JSON already). */
export function messageJson(message: Message): string {
  if (message.createdAt !== lastStamp.ms) lastStamp = { ms: message.createdAt, json: JSON.stringify(iso(message.createdAt)) };
  return (
    `{"id":${JSON.stringify(message.id)},"eventType":${JSON.stringify(message.eventType)},"eventId":${JSON.stringify(message.eventId)},` +
    `"payload":${message.payload},"channels":${JSON.stringify(message.channels)},"timestamp":${lastStamp.json}}`
  );
}

export function serializeDelivery(delivery: Delivery) {
  return {
    id: delivery.id,
    messageId: delivery.messageId,
    endpointId: delivery.endpointId,
    status: delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: isoOrNull(delivery.nextAttemptAt),
    lastAttemptAt: isoOrNull(delivery.lastAttemptAt),
    createdAt: iso(delivery.createdAt),
    updatedAt: iso(delivery.updatedAt),
  };
}

export function serializeAttempt(attempt: Attempt) {
  return {
    id: attempt.id,
    messageId: attempt.messageId,
    endpointId: attempt.endpointId,
    attemptNumber: attempt.attemptNumber,
    url: attempt.url,
    timestamp: iso(attempt.createdAt),
    durationMs: attempt.durationMs,
    success: attempt.success,
    statusCode: attempt.statusCode,
    responseHeaders: attempt.responseHeaders,
    responseBody: attempt.responseBody,
    errorKind: attempt.errorKind,
    errorMessage: attempt.errorMessage,
  };
}

/** The store's counts plus `successRate` (succeeded / attempts; null when there were none). */
export function serializeStats(stats: EndpointStats) {
  return {
    since: iso(stats.since),
    attempts: stats.attempts,
    succeeded: stats.succeeded,
    failed: stats.failed,
    successRate: stats.attempts === 0 ? null : stats.succeeded / stats.attempts,
    latency: stats.latency,
    deliveries: stats.deliveries,
    series: stats.series.map((s) => ({ ...s, t: iso(s.t) })),
  };
}
