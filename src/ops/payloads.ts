import type { Attempt, DisabledReason, OperationalEventType } from "../store/model.js";

/**
 * The `data` of each operational event, shaped like Svix's operational
 * webhooks (in Herald's camelCase names). The published body is
 * `{type, timestamp, data}`.
 */

export interface AppRef {
  appId: string;
  appUid: string | null;
}

export type EndpointEventType = Extract<OperationalEventType, `endpoint.${string}`>;
export type AttemptEventType = Extract<OperationalEventType, `message.attempt.${string}`>;

/** `endpoint.created`, `.updated`, `.deleted`, `.enabled`. */
export const endpointData = (app: AppRef, endpointId: string) => ({ ...app, endpointId });

/** `endpoint.disabled`: `trigger` says whether a person (`manual`) or the failure rules (`automatic`) did it. */
export const endpointDisabledData = (app: AppRef, endpointId: string, reason: DisabledReason, failSince: number | null) => ({
  ...app,
  endpointId,
  reason,
  trigger: reason === "manual" ? "manual" : "automatic",
  failSince: failSince === null ? null : new Date(failSince).toISOString(),
});

/** `message.attempt.failing`, `.exhausted`, `.recovered`: the message, the endpoint and the attempt that decided it. */
export const attemptData = (app: AppRef, message: { id: string; eventType: string }, attempt: Attempt) => ({
  ...app,
  messageId: message.id,
  eventType: message.eventType,
  endpointId: attempt.endpointId,
  lastAttempt: {
    id: attempt.id,
    attemptNumber: attempt.attemptNumber,
    timestamp: new Date(attempt.createdAt).toISOString(),
    responseStatusCode: attempt.statusCode,
    errorKind: attempt.errorKind,
  },
});
