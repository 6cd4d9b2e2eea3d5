import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  context,
  isSpanContextValid,
  trace,
} from "@opentelemetry/api";
import type { DeliveryJob } from "../store/store.js";
import { VERSION } from "../version.js";

/**
 * Tracing in Herald's core path, on `@opentelemetry/api` alone: without a
 * registered SDK every span is a no-op (no allocation beyond the API's
 * non-recording span, no context stored with messages, no `traceparent`
 * header). The SDK is loaded only when configured (`./otel-sdk.ts`).
 *
 * Spans (docs/observability.md):
 * - `herald publish` (PRODUCER): one per publish, from the call to its group
 *   commit; child of the active span, else of the request's `traceparent`.
 * - `herald claim` (INTERNAL): one per claim batch that returned work; a root.
 * - `herald attempt` (CLIENT): one per HTTP attempt; child of the publish span
 *   (its `traceparent` is stored with the message), linked to the claim span
 *   that fetched the job, if any. The receiver gets the attempt's own context.
 */

export const TRACER_NAME = "herald";

/** Herald's tracer from `provider`, or from the global provider (a no-op until an SDK registers one). */
export function heraldTracer(provider?: TracerProvider): Tracer {
  return (provider ?? trace.getTracerProvider()).getTracer(TRACER_NAME, VERSION);
}

/**
 * The `traceparent` to store or send for a span started under `parent`: null
 * when tracing is off. Without an SDK the API's no-op tracer hands back the
 * parent's own context; that is not passed on, so "off" stores and sends
 * nothing, not even a producer's header. A sampled-out span of a real SDK
 * has a new id and is passed on (flags `00`), as W3C Trace Context asks.
 */
export function ownTraceparent(span: Span, parent: Context): string | null {
  const sc = span.spanContext();
  if (trace.getSpanContext(parent)?.spanId === sc.spanId) return null;
  return formatTraceparent(sc);
}

/** The W3C `traceparent` of a span context; null when it is not a valid (recording or sampled-out) one. */
export function formatTraceparent(sc: SpanContext): string | null {
  if (!isSpanContextValid(sc)) return null;
  return `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** A `traceparent` header (W3C Trace Context, level 1) as a remote span context; null when malformed. */
export function parseTraceparent(header: string | null | undefined): SpanContext | null {
  if (typeof header !== "string") return null;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return null;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
  if (version === "ff" || (version === "00" && rest !== undefined)) return null;
  const sc: SpanContext = { traceId, spanId, traceFlags: Number.parseInt(flags, 16) & 1, isRemote: true };
  return isSpanContextValid(sc) ? sc : null;
}

/**
 * The parent of a publish span: the caller's active span when there is one
 * (an instrumented HTTP server or the embedding program), else the producer's
 * `traceparent` header, else none (a new trace).
 */
export function publishParent(traceparent: string | undefined): Context {
  const active = context.active();
  if (trace.getSpan(active)?.spanContext() && isSpanContextValid(trace.getSpan(active)!.spanContext())) return active;
  const remote = parseTraceparent(traceparent);
  return remote ? trace.setSpanContext(ROOT_CONTEXT, remote) : active;
}

/** The context a stored `traceparent` stands for (the attempt's parent); the root context when there is none. */
export function storedParent(traceparent: string | null | undefined): Context {
  const sc = parseTraceparent(traceparent);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/**
 * The claim span each claimed job came with (for the attempt span's link). Keyed
 * by the job object itself, so it is dropped with the job; jobs handed over by
 * a publish have none.
 */
const claimedBy = new WeakMap<DeliveryJob, SpanContext>();

export function markClaimed(jobs: readonly DeliveryJob[], claim: SpanContext): void {
  if (!isSpanContextValid(claim)) return;
  for (const job of jobs) claimedBy.set(job, claim);
}

export function claimOf(job: DeliveryJob): SpanContext | undefined {
  return claimedBy.get(job);
}

/** Ends a span as failed with the error recorded. */
export function endWithError(span: Span, err: unknown): void {
  if (span.isRecording()) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
  span.end();
}
