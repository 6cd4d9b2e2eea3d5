import type { TracerProvider } from "@opentelemetry/api";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { PublishBatchItem, PublishInput, PublishRequestInput } from "./publish/types.js";
import type { EndpointCreateInput, EndpointPatchInput } from "./service/endpoint-input.js";
import { EventCatalog } from "./catalog/catalog.js";
import { type HeraldConfig, type RawSettings, resolveConfig } from "./config/config.js";
import { ConfigError, notFound } from "./core/errors.js";
import { checkJsonText } from "./core/json-limits.js";
import { checker } from "./core/validation.js";
import { Channel, EventTypeName } from "./core/schemas.js";
import { Type } from "@sinclair/typebox";
import type { EndpointId } from "./core/ids.js";
import { Dispatcher } from "./delivery/dispatcher.js";
import { DeliveryThread, type DeliveryThreadSource } from "./delivery/thread.js";
import { createLogger } from "./log.js";
import { HeraldMetrics } from "./observability/metrics.js";
import { heraldTracer } from "./observability/tracing.js";
import { OperationalEvents } from "./ops/operational-events.js";
import { type ApplicationCreateInput, ApplicationWrites } from "./service/applications.js";
import { EndpointWrites } from "./service/endpoints.js";
import { checkBatchLength, type MessageInput, type MessageSource, MessageWrites } from "./service/messages.js";
import { publishWith, type SqliteTransaction, serializePayload, sqliteHandle, sqliteTransaction } from "./publish/outbox.js";
import { GroupCommitPublisher } from "./publish/publisher.js";
import { openStore } from "./store/open.js";
import { SsrfGuard, type HostResolver } from "./security/guard.js";
import { parseKeyRing } from "./security/keys.js";
import { openEncrypted } from "./security/encrypting-store.js";
import type { Application, Endpoint, EventType, Message } from "./store/model.js";
import type { SqlClient } from "./store/postgres/index.js";
import { Retention } from "./store/retention.js";
import type { Store } from "./store/store.js";
import { TransformPool } from "./transform/pool.js";
import { type TransformationSample, type TransformationTrial, tryTransformation } from "./transform/try.js";

export interface HeraldOptions {
  /** Settings by variable name, as in the environment (`HERALD_DATABASE_URL` …). Default: none. */
  settings?: RawSettings;
  /** Overrides applied after the settings are resolved. */
  config?: Partial<HeraldConfig>;
  /** Default: a pino logger at `config.logLevel` on stdout. */
  logger?: Logger;
  /** How the SSRF guard resolves host names, and how long it reuses an answer. Default: `dns.lookup` (every address), 5 s. */
  guard?: { resolve?: HostResolver; cacheMs?: number };
  /**
   * Where Herald's spans go (`herald publish`, `herald claim`, `herald attempt`:
   * docs/observability.md). Default: the global OpenTelemetry provider, a no-op
   * unless your program (or `HERALD_OTEL` with `herald serve`) registered an SDK.
   */
  tracerProvider?: TracerProvider;
  /**
   * Delivers from a thread of its own (as `herald serve` does with
   * `HERALD_DELIVERY_THREAD=on`): the thread opens its own Herald of role
   * `worker` from `settings` and `config`, so the API's work and delivery's use
   * both cores. Not with `logger`, `guard` or `tracerProvider` (they cannot
   * cross threads), nor with an in-memory SQLite database. Default: the
   * `HERALD_DELIVERY_THREAD` setting where it applies (role `all`, a database
   * file), else false (delivery on the caller's event loop).
   */
  deliveryThread?: boolean;
}

/**
 * Herald in one object: the store, the group-commit publisher and (unless the
 * role is `api`) the delivery dispatcher. The HTTP server is separate
 * (`listen()`), so Herald also runs embedded in another program.
 *
 * @example
 * const herald = await Herald.open({ settings: { HERALD_DATABASE_URL: "sqlite:./hooks.db" } });
 * herald.start();
 * await herald.publish({ appId, eventType: "order.created", payload: JSON.stringify(order), channels: null, eventId: null });
 * await herald.stop();
 */
export type { PublishBatchItem, PublishRequestInput } from "./publish/types.js";

export class Herald {
  /** The in-process dispatcher: null for the `api` role, and when delivery runs in a thread (`deliveryThread`). */
  readonly dispatcher: Dispatcher | null;
  private readonly deliveryThread: DeliveryThread | null;
  readonly publisher: GroupCommitPublisher;
  /** Payload validation against the event catalog's schemas (shared with the API). */
  readonly catalog: EventCatalog;
  /** Herald's own events (contract §5): recorded, and sent to the operational webhook when configured. */
  readonly ops: OperationalEvents;
  /** The Prometheus metrics of this Herald (served at `/metrics`; `metrics.registry` is prom-client's `Registry`). */
  readonly metrics: HeraldMetrics;
  private server: FastifyInstance | null = null;
  private stopping: Promise<void> | null = null;
  private starting: Promise<void> | null = null;
  /** Unregisters this process as a delivering worker (PostgreSQL LISTEN and presence). */
  private detachWorker: (() => Promise<void>) | null = null;
  private retention: Retention | null = null;
  /** Checks, store writes and operational events of endpoints: the same code as the HTTP API's. */
  private readonly endpointWrites: EndpointWrites;
  private readonly applicationWrites: ApplicationWrites;
  private readonly messages: MessageWrites;
  /** The sandbox of endpoint transformations (threads start on first use), shared by the dispatcher and the API. */
  private readonly transforms: TransformPool;

  private constructor(
    readonly config: HeraldConfig,
    readonly store: Store,
    readonly logger: Logger,
    /** Checks every connection of every attempt (and endpoint URLs at creation). */
    readonly guard: SsrfGuard,
    tracerProvider?: TracerProvider,
    thread?: DeliveryThreadSource,
  ) {
    const tracer = heraldTracer(tracerProvider);
    const metrics = new HeraldMetrics({ store, role: config.role });
    this.metrics = metrics;
    this.transforms = new TransformPool({ limits: { timeoutMs: config.transformTimeoutMs } });
    this.deliveryThread = thread && config.role !== "api" ? new DeliveryThread({ ...thread, metrics, logger }) : null;
    if (this.deliveryThread) {
      const t = this.deliveryThread;
      metrics.beforeScrape = () => t.flushMetrics();
    }
    this.dispatcher =
      config.role === "api" || this.deliveryThread
        ? null
        : new Dispatcher({
            store,
            logger,
            retry: config.retry,
            requestTimeoutMs: config.requestTimeoutMs,
            tuning: config.delivery,
            guard,
            brokerClientCert: config.brokerClientCert,
            transforms: this.transforms,
            onOutcome: (job, completion) => {
              if (completion.attempt) metrics.attempt(completion.attempt);
              this.ops.onOutcome(job, completion);
            },
            tracer,
            onFenced: (count) => metrics.fenced(count),
            onEndpointDisabled: (endpointId, reason) => this.ops.onEndpointDisabled(endpointId, reason),
          });
    const dispatcher = this.dispatcher;
    this.publisher = new GroupCommitPublisher(store, {
      firstDelayMs: config.retry.schedule[0] ?? 0,
      // Fresh deliveries go to the dispatcher in memory, on this thread or the delivery thread.
      lease: (now) => dispatcher?.leaseForPublish(now) ?? this.deliveryThread?.leaseForPublish(now, () => store.changeEpoch()),
      onJobs: (jobs, lease) => (dispatcher ? dispatcher.offer(jobs, lease.until, lease.epoch) : this.deliveryThread?.offer(jobs, lease)),
      onCommitted: () => this.wakeDelivery(),
      onPublished: (created) => metrics.publish(created),
      tracer,
      logger,
    });
    this.catalog = new EventCatalog(store, { logger });
    this.ops = new OperationalEvents({ store, publisher: this.publisher, logger, webhook: config.operationalWebhook });
    this.applicationWrites = new ApplicationWrites(store);
    this.messages = new MessageWrites({ publisher: this.publisher, catalog: this.catalog, maxPayloadBytes: config.maxPayloadBytes });
    this.endpointWrites = new EndpointWrites({ store, ops: this.ops, checkUrl: (url) => guard.checkUrl(url), wake: () => this.wakeDelivery() });
  }

  /** Resolves the configuration, opens the store and applies migrations. */
  static async open(options: HeraldOptions = {}): Promise<Herald> {
    const config = resolveConfig(options.settings ?? {}, options.config);
    const thread = (options.deliveryThread ?? settingWantsThread(config)) ? deliveryThreadOf(options, config) : undefined;
    const logger = options.logger ?? createLogger(config.logLevel, undefined, { pretty: config.dev });
    const guard = new SsrfGuard({ ...options.guard, allowedNetworks: config.allowedNetworks });
    const ring = config.encryptionKey === undefined ? undefined : parseKeyRing(config.encryptionKey);
    let store = await openStore(config.store);
    try {
      await store.migrate();
      // Secrets and credentials encrypted at rest (rows under older keys are re-encrypted first).
      if (ring) store = await openEncrypted(store, ring, logger);
    } catch (err) {
      await store.close();
      throw err;
    }
    const herald = new Herald(config, store, logger, guard, options.tracerProvider, thread);
    try {
      await herald.ops.setup();
    } catch (err) {
      await store.close();
      throw err;
    }
    return herald;
  }

  /**
   * Starts delivering (no-op for the `api` role). Idempotent, also when called
   * concurrently. On SQLite, refuses (`conflict`) while another process
   * delivers from the same file.
   */
  start(): Promise<void> {
    // Concurrent calls share one start: one worker attached, one dispatcher.
    this.starting ??= this.startDelivering().catch((err: unknown) => {
      this.starting = null;
      throw err;
    });
    return this.starting;
  }

  /** Deliveries became due now: the dispatcher (or the delivery thread) claims them without waiting for its poll. */
  private wakeDelivery(): void {
    this.dispatcher?.wake();
    this.deliveryThread?.wake();
  }

  private async startDelivering(): Promise<void> {
    if (this.deliveryThread) {
      if (this.stopping) return;
      await this.deliveryThread.start();
      this.logger.info("delivering from a thread of its own (HERALD_DELIVERY_THREAD=on)");
      return;
    }
    if (!this.dispatcher || this.dispatcher.running || this.stopping) return;
    const dispatcher = this.dispatcher;
    // SQLite: takes the file's delivery lock, or refuses (another process
    // delivers from it). PostgreSQL: LISTEN and presence; other processes
    // share the queue, and only the leases of dead workers are taken back.
    this.detachWorker ??= await this.store.attachWorker(dispatcher.owner, () => dispatcher.wake());
    if (this.store.kind === "sqlite") {
      // Holding the lock, whatever is leased was leased by a previous
      // delivering process, which is gone. Take it back now, not at lease expiry.
      const n = await this.store.releaseAllLeases(Date.now());
      if (n > 0) this.logger.info({ deliveries: n }, "took back deliveries leased by a previous run");
    }
    dispatcher.start();
    if (this.config.retentionMs !== null && !this.retention) {
      this.retention = new Retention({ store: this.store, logger: this.logger, maxAgeMs: this.config.retentionMs });
      this.retention.start();
    }
  }

  /**
   * Publishes one message; resolves when it and its deliveries are durably
   * stored. Takes the library form (`{app, eventType, payload}`) or the
   * engine's own `PublishInput` (payload already serialized).
   */
  async publish(input: PublishRequestInput | PublishInput): Promise<{ message: Message; created: boolean }> {
    if ("appId" in input) {
      const app = await this.application(input.appId);
      checkJsonText(input.payload, "the payload"); // depth and round-trip, as every other publish
      await this.checkPayload(input.eventType, input.payload);
      return this.publisher.publish({ ...input, appId: app.id });
    }
    const { app, ...message } = input;
    const read = readLibraryMessage(message);
    return this.messages.publish((await this.application(app)).id, read, FROM_CODE);
  }

  /**
   * Publishes up to 1,000 messages to one application in one transaction, all
   * or nothing (contract §9): each gets `publish`'s checks, and one invalid
   * message refuses the batch with one 422 `validation_failed` whose `errors`
   * name its index (`/messages/3/payload`); nothing is stored then. The payloads
   * may add up to 4 × `HERALD_MAX_PAYLOAD_BYTES` (`payload_too_large` beyond).
   * Resolves in input order; `idempotencyKey` dedups as in `publish` (within the
   * batch too: a repeated key answers the batch's first message with it).
   *
   * @example
   * const results = await herald.publishBatch("shop", orders.map((o) => ({ eventType: "order.created", payload: o, idempotencyKey: o.id })));
   */
  async publishBatch(app: string, messages: readonly PublishBatchItem[]): Promise<{ message: Message; created: boolean }[]> {
    checkBatchLength(messages); // before the application is looked up, as the API's schema is
    return this.messages.publishBatch((await this.application(app)).id, messages, readLibraryMessage, FROM_CODE);
  }

  /** Typed event types are checked against their catalog schema (422 `validation_failed`); JSON text is parsed only then. */
  private async checkPayload(eventType: string, payload: unknown): Promise<void> {
    (await this.catalog.validator(eventType))?.(typeof payload === "string" ? JSON.parse(payload) : payload);
  }

  /**
   * Transactional outbox, SQLite: runs `fn` in one durable transaction on the
   * store's own connection. Your statements on `tx.db` and the messages of
   * `tx.publish` commit together, or not at all if `fn` throws. Synchronous,
   * like better-sqlite3; the local workers are woken after the commit.
   *
   * @example
   * const order = herald.transaction((tx) => {
   *   tx.db.prepare("INSERT INTO orders (id, total) VALUES (?, ?)").run(id, total);
   *   tx.publish({ app: "shop", eventType: "order.created", payload: { id, total } });
   *   return { id, total };
   * });
   */
  transaction<T>(fn: (tx: SqliteTransaction) => T): T {
    return sqliteTransaction(this.outboxContext(), fn, () => this.wakeDelivery());
  }

  /**
   * Transactional outbox, PostgreSQL: publishes with your `pg` client inside
   * your open transaction (between `BEGIN` and `COMMIT`). The message and its
   * deliveries commit or roll back with your change; workers are woken at
   * commit. Also takes anything with `query(text, values)` returning `{rows}`.
   *
   * @example
   * await client.query("BEGIN");
   * await client.query("INSERT INTO orders (id, total) VALUES ($1, $2)", [id, total]);
   * await herald.publishWith(client, { app: "shop", eventType: "order.created", payload: { id, total } });
   * await client.query("COMMIT");
   */
  async publishWith(client: SqlClient, input: PublishRequestInput): Promise<{ message: Message; created: boolean }> {
    // Depth and round-trip are checked (by serializing) before the catalog's validator reads the value.
    const payload = serializePayload(input.payload, this.config.maxPayloadBytes);
    await this.checkPayload(input.eventType, input.payload);
    return publishWith(this.outboxContext(), client, { ...input, payload });
  }

  /** The SQLite store's better-sqlite3 connection, for your own tables in Herald's file (see `transaction`). */
  sqliteHandle(): import("better-sqlite3").Database {
    return sqliteHandle(this.store);
  }

  private outboxContext() {
    return {
      store: this.store,
      maxPayloadBytes: this.config.maxPayloadBytes,
      firstDelayMs: this.config.retry.schedule[0] ?? 0,
      validateSync: (eventType: string, payload: unknown, read: (name: string) => EventType | null) =>
        this.catalog.validatorSync(eventType, read)?.(payload),
    };
  }

  /**
   * Creates an application; `uid` is your own id for it, usable wherever an app
   * id is. Checked as the HTTP API checks it (`validation_failed` naming the
   * field; a uid already taken is a `conflict`).
   */
  async createApplication(input: ApplicationCreateInput): Promise<Application> {
    return this.applicationWrites.create(input);
  }

  /** An application by `app_` id or `uid`; throws `not_found`. */
  async application(idOrUid: string): Promise<Application> {
    const app = await this.store.getApplication(idOrUid);
    if (!app) throw notFound("application", idOrUid);
    return app;
  }

  /** Creates an endpoint, checked exactly as the HTTP API checks it. The result holds the full secret. */
  async createEndpoint(app: string, input: EndpointCreateInput): Promise<Endpoint> {
    return this.endpointWrites.create(await this.application(app), input);
  }

  /** Writes only the fields given (a concurrent status change is kept); `disabled` acts as `setEndpointEnabled`. */
  async updateEndpoint(app: string, endpointId: string, input: EndpointPatchInput): Promise<Endpoint> {
    return this.endpointWrites.update(await this.application(app), endpointId, input);
  }

  /**
   * Runs transformation code (or the endpoint's stored code) on a sample, as a
   * delivery would, sending nothing: what `POST …/transformation/test` answers.
   * A handler that fails throws `transformation_failed` with the attempt's message.
   *
   * @example
   * const trial = await herald.testTransformation("petstore", ep.id, { eventType: "order.created", payload: { id: 1 }, code });
   */
  async testTransformation(app: string, endpointId: string, sample: TransformationSample): Promise<TransformationTrial> {
    return tryTransformation(this.transforms, await this.endpoint(app, endpointId), sample, this.config.maxPayloadBytes);
  }

  /** Enables (`true`, failure state reset) or disables (`false`, reason `manual`) an endpoint; a no-op when already so. */
  async setEndpointEnabled(app: string, endpointId: string, enabled: boolean): Promise<Endpoint> {
    return this.endpointWrites.setEnabled(await this.application(app), endpointId, enabled);
  }

  async deleteEndpoint(app: string, endpointId: string): Promise<void> {
    await this.endpointWrites.delete(await this.application(app), endpointId);
  }

  /** An endpoint of an application; throws `not_found`. */
  async endpoint(app: string, endpointId: string): Promise<Endpoint> {
    const { id } = await this.application(app);
    const ep = await this.store.getEndpoint(id, endpointId as EndpointId);
    if (!ep) throw notFound("endpoint", endpointId);
    return ep;
  }

  /** Re-queues every failed or skipped delivery of an endpoint created since `since`; `conflict` while it is disabled. */
  async recover(app: string, endpointId: string, since: Date): Promise<number> {
    return this.endpointWrites.recover(await this.application(app), endpointId, since.getTime());
  }

  /** Starts the HTTP API (and dashboard) on the configured host and port; `mount` adds routes first. */
  async listen(options: { mount?: (server: FastifyInstance) => Promise<unknown> } = {}): Promise<{ url: string; server: FastifyInstance }> {
    const { buildApi } = await import("./api/server.js");
    const server = await buildApi({
      store: this.store,
      config: this.config,
      publisher: this.publisher,
      logger: this.logger,
      wake: () => this.wakeDelivery(),
      checkUrl: (url) => this.guard.checkUrl(url),
      catalog: this.catalog,
      ops: this.ops,
      metrics: this.metrics,
      transforms: this.transforms,
    });
    // Extra routes (the Pet Store) share the server, its error handler and its validation.
    await options.mount?.(server);
    const url = await server.listen({ host: this.config.host, port: this.config.port });
    this.server = server;
    return { url, server };
  }

  /**
   * Graceful stop: stop accepting requests, commit queued publishes, let
   * in-flight attempts finish (up to the shutdown deadline), close the store.
   * Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.server?.close();
      // Events from here on are recorded but no longer published.
      await this.ops.close();
      await this.publisher.close();
      await this.dispatcher?.stop();
      await this.deliveryThread?.stop();
      await this.transforms.close();
      await this.retention?.stop();
      await this.detachWorker?.();
      await this.ops.flush();
      await this.store.close();
    })();
    return this.stopping;
  }
}

const inMemory = (config: HeraldConfig): boolean => config.store.kind === "sqlite" && (config.store.path === ":memory:" || config.store.path === "");

/** `HERALD_DELIVERY_THREAD=on` applies to a process of role `all` on a database file; elsewhere it is ignored. */
const settingWantsThread = (config: HeraldConfig): boolean => config.deliveryThread && config.role === "all" && !inMemory(config);

/** What the delivery thread opens its Herald from; refuses what cannot cross threads. */
function deliveryThreadOf(options: HeraldOptions, config: HeraldConfig): DeliveryThreadSource {
  const asked = options.deliveryThread === undefined ? "HERALD_DELIVERY_THREAD=on" : "deliveryThread";
  const local = (["logger", "guard", "tracerProvider"] as const).filter((k) => options[k] !== undefined);
  if (local.length > 0) throw new ConfigError(`${asked}: cannot be combined with ${local.join(", ")} (they cannot cross threads)`);
  if (inMemory(config)) {
    throw new ConfigError("deliveryThread: an in-memory SQLite database cannot be shared with a thread; use a file");
  }
  return { settings: options.settings ?? {}, config: options.config ?? {} };
}

const FROM_CODE: MessageSource = { from: "code" };

const BatchItem = Type.Object(
  {
    eventType: EventTypeName,
    payload: Type.Unknown(),
    channels: Type.Optional(Type.Array(Channel, { maxItems: 10 })),
    idempotencyKey: Type.Optional(Type.String({ pattern: "^[\\x20-\\x7e]{1,256}$", description: "1–256 printable ASCII characters" })),
  },
  { additionalProperties: false },
);

let checkBatchItemOnce: ((value: unknown) => unknown) | undefined;
/** A library message, its envelope checked as the API checks a body's (paths `/eventType` …). */
function readLibraryMessage(m: PublishBatchItem): MessageInput {
  checkBatchItemOnce ??= checker(BatchItem);
  checkBatchItemOnce(m);
  return { eventType: m.eventType, payload: m.payload, channels: m.channels, eventId: m.idempotencyKey };
}
