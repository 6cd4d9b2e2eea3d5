import type { Logger } from "pino";
import type { EventCatalog } from "../catalog/catalog.js";
import type { HeraldConfig } from "../config/config.js";
import type { HeraldMetrics } from "../observability/metrics.js";
import type { OperationalEvents } from "../ops/operational-events.js";
import type { Publisher } from "../publish/types.js";
import type { Store } from "../store/store.js";
import type { TransformPool } from "../transform/pool.js";

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
  /**
   * The metrics `/metrics` serves. Optional: `buildApi` makes one on the store
   * when absent (then it counts only what this server sees: responses, and the
   * store's queue); the library passes its own, which also counts attempts and publishes.
   */
  metrics?: HeraldMetrics;
  /**
   * The sandbox `POST …/transformation/test` runs handlers in. Optional:
   * `buildApi` makes one (closed with the server) when absent; the library
   * passes the dispatcher's.
   */
  transforms?: TransformPool;
}
