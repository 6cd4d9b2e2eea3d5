import { type Span, SpanKind, SpanStatusCode, type Tracer } from "@opentelemetry/api";
import type { Completion, DeliveryJob } from "../store/store.js";
import { attemptOutcome } from "./metrics.js";
import { claimOf, ownTraceparent, storedParent } from "./tracing.js";

/**
 * `herald attempt`: a child of the publish span (whose context is stored
 * with the message), linked to the claim that fetched the job, if one did.
 * Its own context is the `traceparent` the receiver gets.
 */
export function startAttemptSpan(tracer: Tracer, job: DeliveryJob, attemptNumber: number, startedAt: number): { span: Span; traceparent: string | null } {
  const claim = claimOf(job);
  const parent = storedParent(job.message.traceContext);
  const span = tracer.startSpan("herald attempt", { kind: SpanKind.CLIENT, startTime: startedAt, links: claim ? [{ context: claim }] : [] }, parent);
  if (span.isRecording()) {
    const url = URL.canParse(job.endpoint.url) ? new URL(job.endpoint.url) : null;
    span.setAttributes({
      "http.request.method": "POST",
      // No query string or credentials: they may hold secrets.
      ...(url
        ? { "url.full": `${url.protocol}//${url.host}${url.pathname}`, "server.address": url.hostname, "server.port": Number(url.port) || (url.protocol === "https:" ? 443 : 80) }
        : {}),
      "messaging.system": "herald",
      "messaging.message.id": job.message.id,
      "messaging.destination.name": job.message.eventType,
      "herald.delivery.id": job.delivery.id,
      "herald.endpoint.id": job.endpoint.id,
      "herald.attempt.number": attemptNumber,
    });
  }
  return { span, traceparent: ownTraceparent(span, parent) };
}

/** Ends an attempt span with what the attempt decided. */
export function endAttemptSpan(span: Span, completion: Completion): void {
  if (span.isRecording()) {
    const a = completion.attempt;
    if (a) {
      if (a.statusCode !== null) span.setAttribute("http.response.status_code", a.statusCode);
      span.setAttribute("herald.attempt.outcome", attemptOutcome(a));
      if (!a.success) {
        span.setAttribute("error.type", a.errorKind === "http_status" && a.statusCode !== null ? String(a.statusCode) : (a.errorKind ?? "internal"));
        span.setStatus({ code: SpanStatusCode.ERROR, message: (a.errorMessage ?? "").slice(0, 200) });
      }
    }
    span.setAttribute("herald.delivery.status", completion.status);
  }
  span.end();
}
