import type { ApplicationId, EndpointId } from "../core/ids.js";
import type { Message } from "../store/model.js";

/**
 * What publishing takes and gives, shared by the HTTP API, the library, the
 * outbox and operational events (which publish through Herald itself).
 */

/** What a publish call carries once validated (by the HTTP layer or the library), payload serialized. */
export interface PublishInput {
  appId: ApplicationId;
  eventType: string;
  /** Compact JSON of the payload, serialized once by the caller. */
  payload: string;
  channels: string[] | null;
  /** Idempotency key (`Idempotency-Key` header or body `id`). */
  eventId: string | null;
  /** Restrict fan-out to one endpoint (the endpoint `test` action). */
  only?: EndpointId;
  /**
   * The producer's W3C `traceparent` (the API passes the request's header): the
   * publish span's parent when no span is active. Ignored when tracing is off or malformed.
   */
  traceparent?: string;
}

export interface Publisher {
  /** Resolves once the message and its deliveries are committed and synced. */
  publish(input: PublishInput): Promise<{ message: Message; created: boolean }>;
  /** Publishes many in one transaction, all or nothing; answers in input order (contract §9). */
  publishBatch(inputs: readonly PublishInput[], options?: { traceparent?: string }): Promise<{ message: Message; created: boolean }[]>;
}

/** What the library's `publish` takes: the payload as a value (serialized once) or as JSON text. */
export interface PublishRequestInput {
  /** The application's `app_` id or its `uid`. */
  app: string;
  eventType: string;
  payload: unknown;
  channels?: string[];
  /** Same key, same message: a repeated publish creates no second delivery. */
  idempotencyKey?: string;
}

/** One message of the library's `publishBatch`: `publish`'s input without `app`. */
export type PublishBatchItem = Omit<PublishRequestInput, "app">;
