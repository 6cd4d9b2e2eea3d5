import { randomBytes } from "node:crypto";
import { type AttemptId, type DeliveryId, type Id, type IdPrefix, newId } from "../../src/core/ids.js";
import { idFloor } from "../../src/store/retention.js";
import type { Application, Attempt, Endpoint, Message } from "../../src/store/model.js";
import type { Completion, DeliveryJob, HeldLease, NewEndpoint, Store } from "../../src/store/store.js";
import { endpointRow } from "../helpers/rows.js";

/** A store under test and how to get rid of it. `reopen` opens a second store on the same data (another "process"). */
export interface TestStore {
  store: Store;
  reopen(): Promise<Store>;
  close(): Promise<void>;
}

export type OpenTestStore = () => Promise<TestStore>;

export const T0 = 1_750_000_000_000;

/**
 * An id created at exactly `ms`. (`newId` never goes back in time within a
 * process, and tests need old ids next to new ones.)
 */
export function idAt<P extends IdPrefix>(prefix: P, ms: number): Id<P> {
  const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  const tail = Array.from(randomBytes(16), (b) => alphabet[b % 32]).join("");
  return `${idFloor(prefix, ms)}${tail}` as Id<P>;
}

export async function app(store: Store, extra: Partial<Application> = {}): Promise<Application> {
  return store.createApplication({ id: newId("app", T0), uid: null, name: "app", metadata: {}, createdAt: T0, updatedAt: T0, ...extra });
}

export async function endpoint(store: Store, a: Application, extra: Partial<NewEndpoint> = {}): Promise<Endpoint> {
  return store.createEndpoint(endpointRow(a.id, "https://example.test/hook", T0, extra));
}

export function message(a: Application, extra: Partial<Message> = {}, at = T0): Message {
  return {
    id: idAt("msg", at),
    appId: a.id,
    eventType: "order.created",
    eventId: null,
    payload: '{"b":1,"a":[2,"ü"]}',
    channels: null,
    createdAt: at,
    ...extra,
  };
}

/** Publishes one message with nothing leased, first attempt due at `now`. */
export async function publishOne(store: Store, a: Application, extra: Partial<Message> = {}, now = T0) {
  const [r] = await store.publish([{ message: message(a, extra, now) }], { now });
  return r!;
}

export function attemptOf(job: DeliveryJob, at: number, success: boolean, extra: Partial<Attempt> = {}): Attempt {
  return {
    id: idAt("atmpt", at) as AttemptId,
    deliveryId: job.delivery.id,
    messageId: job.message.id,
    endpointId: job.endpoint.id,
    appId: job.delivery.appId,
    attemptNumber: job.delivery.attempts + 1,
    url: job.endpoint.url,
    createdAt: at,
    durationMs: 12,
    success,
    statusCode: success ? 200 : 500,
    responseHeaders: { "content-type": "text/plain" },
    responseBody: success ? "ok" : "boom",
    errorKind: success ? null : "http_status",
    errorMessage: null,
    ...extra,
  };
}

/** The completion of a successful first attempt; `extra` goes to its attempt. */
export function succeeded(job: DeliveryJob, at: number, extra: Partial<Attempt> = {}): Completion {
  return {
    deliveryId: job.delivery.id as DeliveryId,
    messageId: job.delivery.messageId,
    lease: job.lease,
    endpointId: job.endpoint.id,
    attempt: attemptOf(job, at, true, extra),
    status: "succeeded",
    attempts: job.delivery.attempts + 1,
    scheduleIndex: job.delivery.scheduleIndex + 1,
    nextAttemptAt: null,
    cycleStartedAt: job.delivery.cycleStartedAt ?? at,
  };
}

/** The completion of a failed attempt, retried at `retryAt` (or failed for good when null). */
export function failed(job: DeliveryJob, at: number, retryAt: number | null, extra: Partial<Completion> = {}): Completion {
  return {
    deliveryId: job.delivery.id as DeliveryId,
    messageId: job.delivery.messageId,
    lease: job.lease,
    endpointId: job.endpoint.id,
    attempt: attemptOf(job, at, false),
    status: retryAt === null ? "failed" : "pending",
    attempts: job.delivery.attempts + 1,
    scheduleIndex: job.delivery.scheduleIndex + 1,
    nextAttemptAt: retryAt,
    cycleStartedAt: job.delivery.cycleStartedAt ?? at,
    ...extra,
  };
}

export const claim = (store: Store, now: number, extra: { owner?: string; limit?: number; leaseMs?: number; exclude?: Endpoint["id"][] } = {}) =>
  store.claimDue({
    owner: extra.owner ?? "w1",
    now,
    leaseUntil: now + (extra.leaseMs ?? 60_000),
    limit: extra.limit ?? 100,
    excludeEndpoints: extra.exclude ?? [],
  });

/** The lease a job was claimed under, as `extendLeases`, `releaseLeases` and `checkLeases` take it. */
export const held = (job: DeliveryJob): HeldLease => ({ id: job.delivery.id, messageId: job.delivery.messageId, gen: job.lease.gen });
