/**
 * Herald as a library: open a store, manage applications and endpoints,
 * publish, and run the delivery workers in your own process.
 */
export { Herald, type HeraldOptions } from "./herald.js";
export type { SqliteTransaction } from "./publish/outbox.js";
export type { PublishRequestInput } from "./publish/types.js";
export type { SqlClient } from "./store/postgres/index.js";
export { resolveConfig, ConfigError, type HeraldConfig } from "./config/config.js";
export { HeraldError, type ErrorCode } from "./core/errors.js";
export { newId, isId } from "./core/ids.js";
export { matchesEventType } from "./core/filters.js";
export { signStandard, signSeed, signatureHeaders } from "./signing/sign.js";
export { generateSecret } from "./signing/secret.js";
export type { Store } from "./store/store.js";
export type { HeraldMetrics, AttemptOutcome } from "./observability/metrics.js";
export { startTracing, tracingMode, type TracingMode } from "./observability/otel-sdk.js";
export type * from "./store/model.js";
