import { withoutCredentials } from "../core/broker-url.js";
import { newId } from "../core/ids.js";
import { applyRetryAfter, delayBefore, parseRetryAfter, type RetryPolicy } from "../core/retry.js";
import type { Attempt } from "../store/model.js";
import type { Completion, DeliveryJob } from "../store/store.js";
import type { SendResult } from "./destinations/destination.js";

/**
 * Decides what an attempt means for its delivery: success; `410 Gone`, which
 * disables the endpoint at once; a retry at the next scheduled delay (with
 * jitter and a clamped `Retry-After`); or, with the schedule exhausted, a failed
 * delivery that disables the endpoint unless it succeeded meanwhile.
 */
export function decide(
  job: DeliveryJob,
  result: SendResult,
  attemptNumber: number,
  startedAt: number,
  url: string,
  policy: RetryPolicy,
  random: () => number = Math.random,
): Completion {
  const { delivery } = job;
  // One object per attempt, built once (this runs for every attempt: no spreads).
  const completion: Completion = {
    deliveryId: delivery.id,
    messageId: delivery.messageId,
    lease: job.lease,
    endpointId: delivery.endpointId,
    attempts: attemptNumber,
    cycleStartedAt: delivery.cycleStartedAt ?? startedAt,
    attempt: attemptRow(job, result, attemptNumber, startedAt, url),
    status: "failed",
    scheduleIndex: delivery.scheduleIndex,
    nextAttemptAt: null,
  };
  if (job.endpoint.ordering === "fifo") completion.fifo = true;
  if (result.ok) {
    completion.status = "succeeded";
    return completion;
  }
  if (result.statusCode === 410) {
    completion.disableEndpoint = "gone";
    return completion;
  }
  const nextIndex = delivery.scheduleIndex + 1;
  let delay = delayBefore(policy, nextIndex, random);
  if (delay === undefined) {
    // A FIFO endpoint's head that exhausts its schedule ends (`failed`) and the
    // next message goes. It does not disable the endpoint: the queue behind it
    // was held, so "nothing succeeded meanwhile" says nothing of the receiver.
    if (job.endpoint.ordering !== "fifo") completion.disableEndpoint = "failing";
    return completion;
  }
  if (result.statusCode === 429 || result.statusCode === 503) {
    delay = applyRetryAfter(delay, parseRetryAfter(result.headers?.["retry-after"], startedAt));
  }
  completion.status = "pending";
  completion.scheduleIndex = nextIndex;
  completion.nextAttemptAt = startedAt + result.durationMs + delay;
  return completion;
}

/**
 * A delivery its endpoint's transformation cancelled (`cancel: true`): nothing
 * was sent, and nothing will be. Recorded `skipped` with one attempt that says
 * so (error kind `cancelled`): not a failure, so no retry, no disabling and no
 * `message.attempt.*` event; a recovery of the endpoint runs the handler again.
 */
export function cancelled(job: DeliveryJob, result: SendResult, attemptNumber: number, startedAt: number, url: string): Completion {
  return { ...skip(job), attempts: attemptNumber, attempt: attemptRow(job, result, attemptNumber, startedAt, url) };
}

function attemptRow(job: DeliveryJob, result: SendResult, attemptNumber: number, startedAt: number, url: string): Attempt {
  const { delivery } = job;
  return {
    id: newId("atmpt", startedAt),
    deliveryId: delivery.id,
    messageId: delivery.messageId,
    endpointId: delivery.endpointId,
    appId: delivery.appId,
    attemptNumber,
    // A broker URL's password never reaches the attempt log.
    url: withoutCredentials(url),
    createdAt: startedAt,
    durationMs: result.durationMs,
    success: result.ok,
    statusCode: result.statusCode,
    responseHeaders: result.headers,
    responseBody: result.body,
    errorKind: result.errorKind,
    errorMessage: result.errorMessage,
  };
}

/** A delivery whose endpoint is disabled: recorded `skipped`, no attempt made. */
export function skip(job: DeliveryJob): Completion {
  const { delivery } = job;
  return {
    deliveryId: delivery.id,
    messageId: delivery.messageId,
    lease: job.lease,
    endpointId: delivery.endpointId,
    ...fifo(job),
    status: "skipped",
    attempts: delivery.attempts,
    scheduleIndex: delivery.scheduleIndex,
    nextAttemptAt: null,
    cycleStartedAt: delivery.cycleStartedAt,
  };
}

/** A FIFO endpoint's completion says so: the store then moves that endpoint's queue on. */
const fifo = (job: DeliveryJob): { fifo?: true } => (job.endpoint.ordering === "fifo" ? { fifo: true } : {});
