import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import type { PublishInput } from "./api/context.js";
import { type HeraldConfig, type RawSettings, resolveConfig } from "./config/config.js";
import { HeraldError } from "./core/errors.js";
import { Dispatcher } from "./delivery/dispatcher.js";
import { createLogger } from "./log.js";
import { GroupCommitPublisher } from "./publish/publisher.js";
import { openStore } from "./store/open.js";
import type { Store } from "./store/store.js";

export interface HeraldOptions {
  /** Settings by variable name, as in the environment (`HERALD_DATABASE_URL` …). Default: none. */
  settings?: RawSettings;
  /** Overrides applied after the settings are resolved. */
  config?: Partial<HeraldConfig>;
  /** Default: a pino logger at `config.logLevel` on stdout. */
  logger?: Logger;
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
export class Herald {
  readonly dispatcher: Dispatcher | null;
  readonly publisher: GroupCommitPublisher;
  private server: FastifyInstance | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly config: HeraldConfig,
    readonly store: Store,
    readonly logger: Logger,
  ) {
    this.dispatcher =
      config.role === "api"
        ? null
        : new Dispatcher({
            store,
            logger,
            retry: config.retry,
            requestTimeoutMs: config.requestTimeoutMs,
            tuning: config.delivery,
          });
    const dispatcher = this.dispatcher;
    this.publisher = new GroupCommitPublisher(store, {
      firstDelayMs: config.retry.schedule[0] ?? 0,
      lease: (now) => dispatcher?.leaseForPublish(now),
      onJobs: (jobs) => dispatcher?.offer(jobs),
      onCommitted: () => dispatcher?.wake(),
      logger,
    });
  }

  /** Resolves the configuration, opens the store and applies migrations. */
  static async open(options: HeraldOptions = {}): Promise<Herald> {
    const config = resolveConfig(options.settings ?? {}, options.config);
    const logger = options.logger ?? createLogger(config.logLevel);
    const store = await openStore(config.store);
    try {
      await store.migrate();
    } catch (err) {
      await store.close();
      throw err;
    }
    return new Herald(config, store, logger);
  }

  /** Starts delivering (no-op for the `api` role). Idempotent. */
  async start(): Promise<void> {
    if (!this.dispatcher || this.dispatcher.running) return;
    if (this.store.kind === "sqlite") {
      // One delivering process per SQLite file: whatever is leased was leased by
      // our own previous run, which is gone. Take it back now, not at lease expiry.
      const n = await this.store.releaseAllLeases(Date.now());
      if (n > 0) this.logger.info({ deliveries: n }, "took back deliveries leased by a previous run");
    }
    this.dispatcher.start();
  }

  /** Publishes one message; resolves when it and its deliveries are durably stored. */
  async publish(input: PublishInput) {
    const app = await this.store.getApplication(input.appId);
    if (!app) throw new HeraldError("not_found", `application ${JSON.stringify(input.appId)} does not exist`);
    return this.publisher.publish({ ...input, appId: app.id });
  }

  /** Starts the HTTP API (and dashboard) on the configured host and port. */
  async listen(): Promise<{ url: string; server: FastifyInstance }> {
    const { buildApi } = await import("./api/server.js");
    const server = await buildApi({
      store: this.store,
      config: this.config,
      publisher: this.publisher,
      logger: this.logger,
      wake: () => this.dispatcher?.wake(),
    });
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
      await this.publisher.close();
      await this.dispatcher?.stop();
      await this.store.close();
    })();
    return this.stopping;
  }
}
