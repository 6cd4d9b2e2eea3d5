import type { Logger } from "pino";
import type { EventCatalog } from "../catalog/catalog.js";
import type { HeraldConfig } from "../config/config.js";
import type { ApplicationId, EndpointId } from "../core/ids.js";
import type { OperationalEvents } from "../ops/operational-events.js";
import type { Message } from "../store/model.js";
import type { Store } from "../store/store.js";

/** What a publish call carries after the HTTP layer validated it. */
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
}

export interface Publisher {
  /** Resolves once the message and its deliveries are committed and synced. */
  publish(input: PublishInput): Promise<{ message: Message; created: boolean }>;
}

/** Everything the HTTP layer needs; built once by the server. */
export interface ApiContext {
  store: Store;
  config: HeraldConfig;
  publisher: Publisher;
  logger: Logger;
  /** Tells the local dispatcher (if any) that deliveries became due now (resend, recover). */
  wake(): void;
  /**
   * The SSRF guard's verdict on a URL an endpoint is created or changed with
   * (endpoint `url`, oauth2 `tokenUrl`): why it is refused (the API answers 422
   * with this text), or undefined when allowed. Optional: without it the API
   * checks only the URL's shape; the sender checks every attempt regardless.
   */
  checkUrl?(url: string): Promise<string | undefined>;
  /**
   * Payload validation against the event catalog's schemas. Optional: `buildApi`
   * makes one when absent; pass the library's own so that both share one cache.
   */
  catalog?: EventCatalog;
  /** Where endpoint changes are reported (operational events). Optional: without it, nothing is reported. */
  ops?: OperationalEvents;
}
