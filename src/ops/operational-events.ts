import type { Logger } from "pino";
import type { Publisher } from "../publish/types.js";
import { type ApplicationId, type EndpointId, type MessageId, newId } from "../core/ids.js";
import type { Application, DisabledReason, Endpoint, OperationalEvent, OperationalEventType } from "../store/model.js";
import type { Completion, DeliveryJob, Store } from "../store/store.js";
import { type AppRef, attemptData, type EndpointEventType, endpointData, endpointDisabledData } from "./payloads.js";
import { ensureOperationalEndpoint, OPERATIONAL_APP_UID, type OperationalWebhook } from "./setup.js";

export interface OperationalEventsOptions {
  store: Store;
  publisher: Publisher;
  logger: Logger;
  /** Where to send the events; without it they are only recorded. Default: unset. */
  webhook?: OperationalWebhook | undefined;
}

/** Endpoints the failure rules are about to disable, kept until the store confirms it. */
const MAX_PENDING_DISABLES = 10_000;

/**
 * Herald's own events (contract §5). Each is recorded in the store (the
 * dashboard's log, `GET /api/v1/operational-events`) and, when an operational
 * webhook is configured, published to the internal `herald-operational`
 * application through the normal publish path: signed, retried, logged.
 *
 * Sources: the API and the library report endpoint changes; the dispatcher
 * reports attempt outcomes (`onOutcome`) and the endpoints its rules disabled
 * (`onEndpointDisabled`). Events about the internal application's own endpoint
 * are recorded but not published (a failing operational webhook must not feed
 * itself). Reporting never throws: a failure is logged and the caller goes on.
 *
 * @example
 * const ops = new OperationalEvents({ store, publisher, logger, webhook: { url, secret: undefined } });
 * await ops.setup();
 * await ops.endpoint("endpoint.created", app, endpoint);
 */
export class OperationalEvents {
  private opsAppId: ApplicationId | null = null;
  private readonly pendingDisables = new Map<EndpointId, { appId: ApplicationId; failSince: number | null }>();
  private readonly inflight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly options: OperationalEventsOptions) {}

  /** Creates (or updates) the internal application and endpoint when a webhook is configured. */
  async setup(): Promise<void> {
    const { webhook, store } = this.options;
    if (webhook) this.opsAppId = await ensureOperationalEndpoint(store, webhook);
    else this.opsAppId = (await store.getApplication(OPERATIONAL_APP_UID))?.id ?? null;
  }

  /** An endpoint was created, updated, deleted or enabled (or, with `reason`, disabled). */
  endpoint(type: EndpointEventType, app: Application, endpoint: Pick<Endpoint, "id">, reason?: DisabledReason): Promise<void> {
    const ref = { appId: app.id, appUid: app.uid };
    const data = type === "endpoint.disabled" ? endpointDisabledData(ref, endpoint.id, reason ?? "manual", null) : endpointData(ref, endpoint.id);
    return this.track(this.emit(type, ref, endpoint.id, null, data));
  }

  /** The dispatcher's hook after each attempt. */
  onOutcome(job: DeliveryJob, completion: Completion): void {
    const attempt = completion.attempt;
    if (!attempt || completion.status === "skipped") return; // cancelled by a transformation: not a failure
    const { delivery } = job;
    if (completion.disableEndpoint) this.expectDisable(delivery.endpointId, delivery.appId, completion.cycleStartedAt);
    let type: OperationalEventType | null = null;
    // scheduleIndex 0 is the first attempt of a schedule run: a failure there
    // that will be retried is `failing`; a later success is a recovery from it.
    if (attempt.success) type = delivery.scheduleIndex > 0 ? "message.attempt.recovered" : null;
    else if (completion.status === "failed") type = "message.attempt.exhausted";
    else if (delivery.scheduleIndex === 0) type = "message.attempt.failing";
    if (!type) return;
    const eventType = type;
    this.track(
      this.appRef(delivery.appId).then((ref) =>
        this.emit(eventType, ref, delivery.endpointId, job.message.id, attemptData(ref, job.message, attempt)),
      ),
    );
  }

  /** The dispatcher's hook when its rules disabled an endpoint (`failing` or `gone`). */
  onEndpointDisabled(endpointId: EndpointId, reason: DisabledReason): void {
    const pending = this.pendingDisables.get(endpointId);
    this.pendingDisables.delete(endpointId);
    if (!pending) {
      this.options.logger.warn({ endpointId, reason }, "endpoint disabled, but its application is unknown here; no operational event");
      return;
    }
    this.track(
      this.appRef(pending.appId).then((ref) =>
        this.emit("endpoint.disabled", ref, endpointId, null, endpointDisabledData(ref, endpointId, reason, pending.failSince)),
      ),
    );
  }

  /** Resolves once every event reported so far is recorded and handed to the publisher. */
  async flush(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /**
   * Stops publishing (the publisher is about to close); events reported from now
   * on are only recorded. Resolves once the events reported so far are handled.
   */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }

  private expectDisable(endpointId: EndpointId, appId: ApplicationId, failSince: number | null): void {
    if (this.pendingDisables.size >= MAX_PENDING_DISABLES) this.pendingDisables.clear();
    this.pendingDisables.set(endpointId, { appId, failSince });
  }

  private async appRef(appId: ApplicationId): Promise<AppRef> {
    const app = await this.options.store.getApplication(appId);
    return { appId, appUid: app?.uid ?? null };
  }

  private track(work: Promise<void>): Promise<void> {
    const p = work.catch((err: unknown) => this.options.logger.error({ err }, "could not report an operational event"));
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
    return p;
  }

  private async emit(type: OperationalEventType, app: AppRef, endpointId: EndpointId, messageId: MessageId | null, data: Record<string, unknown>): Promise<void> {
    const now = Date.now();
    const event: OperationalEvent = { id: newId("opev", now), type, appId: app.appId as ApplicationId, endpointId, messageId, data, createdAt: now };
    await this.options.store.recordOperationalEvent(event);
    if (this.closed || !this.options.webhook || !this.opsAppId || event.appId === this.opsAppId) return;
    await this.options.publisher.publish({
      appId: this.opsAppId,
      eventType: type,
      payload: JSON.stringify({ type, timestamp: new Date(now).toISOString(), data }),
      channels: null,
      // The event's own id: a repeated publish of it is a no-op.
      eventId: event.id,
    });
  }
}
