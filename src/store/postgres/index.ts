import type { AdminKeyId, ApplicationId, DeliveryId, EndpointId, MessageId } from "../../core/ids.js";
import type { AdminKey, Application, EventType, Message, OperationalEvent } from "../model.js";
import type {
  ApplicationPatch,
  ClaimOptions,
  Completion,
  EndpointPatch,
  EventTypePatch,
  HeldLease,
  MessageFilter,
  NewEndpoint,
  OperationalEventFilter,
  PageRequest,
  AttemptFilter,
  PublishOptions,
  PublishRequest,
  PublishResult,
  Store,
  TriageFilter,
  OutboxMessage,
} from "../store.js";
import * as admin from "./admin.js";
import * as catalog from "./catalog.js";
import { PgDb, type PostgresOptions, parsePostgresUrl } from "./db.js";
import * as endpoints from "./endpoints.js";
import * as log from "./log.js";
import { publishWith, type SqlClient } from "./outbox.js";
import { type PublishTarget, publishBatch } from "./publish.js";
import * as queue from "./queue.js";
import * as triage from "./triage.js";
import { ADD_EVERY_MS, addPartitions } from "./partitions.js";
import { purge } from "./retention.js";
import { WorkerLink } from "./workers.js";

/**
 * The Store on PostgreSQL, for any number of Herald processes sharing one
 * database: claims use `FOR UPDATE SKIP LOCKED` with leases, publishes and
 * re-queues NOTIFY the workers at commit, and workers see each other through
 * presence locks (see workers.ts). Publishes commit durably; queue
 * bookkeeping does not wait for the WAL flush (see `PgDb.tx`).
 */
export class PostgresStore implements Store {
  readonly kind = "postgres" as const;
  readonly db: PgDb;
  private readonly target: PublishTarget;
  private closing: Promise<void> | null = null;
  /** See `changeEpoch`: moved by attached workers' links. */
  private epoch = 0;
  private links = 0;
  /** Adds the coming days' partitions while the store is open (see `migrate`). */
  private partitionTimer: NodeJS.Timeout | null = null;

  constructor(connectionString: string, options: PostgresOptions = {}) {
    this.db = new PgDb(connectionString, options);
    this.target = { qschema: this.db.qschema, schema: this.db.schema };
  }

  /**
   * Applies the migrations and adds the coming days' partitions of deliveries
   * and attempts, then adds them again every hour while the store is open
   * (docs/scaling.md, "Partitions on PostgreSQL").
   */
  async migrate() {
    await this.db.migrate();
    await addPartitions(this.db);
    if (this.partitionTimer || this.closing) return;
    this.partitionTimer = setInterval(() => {
      // A turn that fails is tried again at the next; meanwhile the DEFAULT partition takes what has no day partition.
      addPartitions(this.db).catch(() => {});
    }, ADD_EVERY_MS);
    this.partitionTimer.unref();
  }
  close(): Promise<void> {
    if (this.partitionTimer) clearInterval(this.partitionTimer);
    this.partitionTimer = null;
    this.closing ??= this.db.close();
    return this.closing;
  }

  async getSetting(key: string) { return catalog.getSetting(this.db, key); }
  async setSetting(key: string, value: string) { await catalog.setSetting(this.db, key, value); }
  async setSettingIfAbsent(key: string, value: string) { return catalog.setSettingIfAbsent(this.db, key, value); }

  async createApplication(app: Application) { return catalog.createApplication(this.db, app); }
  async getApplication(idOrUid: string) { return catalog.getApplication(this.db, idOrUid); }
  async listApplications(page: PageRequest) { return catalog.listApplications(this.db, page); }
  async updateApplication(id: ApplicationId, patch: ApplicationPatch, now: number) { return catalog.updateApplication(this.db, id, patch, now); }
  async deleteApplication(id: ApplicationId) { return catalog.deleteApplication(this.db, id); }

  async createEventType(type: EventType) { return catalog.createEventType(this.db, type); }
  async getEventType(name: string) { return catalog.getEventType(this.db, name); }
  async listEventTypes(page: PageRequest & { includeArchived?: boolean }) { return catalog.listEventTypes(this.db, page); }
  async updateEventType(name: string, patch: EventTypePatch, now: number) { return catalog.updateEventType(this.db, name, patch, now); }
  async deleteEventType(name: string) { return catalog.deleteEventType(this.db, name); }

  async createEndpoint(ep: NewEndpoint) { return endpoints.createEndpoint(this.db, ep); }
  async getEndpoint(appId: ApplicationId, id: EndpointId) { return endpoints.getEndpoint(this.db, appId, id); }
  async listEndpoints(appId: ApplicationId, page: PageRequest) { return endpoints.listEndpoints(this.db, appId, page); }
  async updateEndpoint(appId: ApplicationId, id: EndpointId, patch: EndpointPatch, now: number) { return endpoints.updateEndpoint(this.db, appId, id, patch, now); }
  async setEndpointEnabled(appId: ApplicationId, id: EndpointId, enabled: boolean, now: number) { return endpoints.setEndpointEnabled(this.db, appId, id, enabled, now); }
  async deleteEndpoint(appId: ApplicationId, id: EndpointId) { return endpoints.deleteEndpoint(this.db, appId, id); }
  async rotateEndpointSecret(appId: ApplicationId, id: EndpointId, secret: string, previousExpiresAt: number, now: number) {
    return endpoints.rotateEndpointSecret(this.db, appId, id, secret, previousExpiresAt, now);
  }

  async publish(batch: readonly PublishRequest[], options: PublishOptions) {
    return publishBatch(this.db.durable, this.target, batch, options, (fn) => this.db.tx(fn));
  }
  /** The transactional outbox: publishes with the caller's client, inside its open transaction. */
  async publishWith(client: SqlClient, message: OutboxMessage, options: { now: number; firstDelayMs: number }): Promise<PublishResult> {
    return publishWith(client, this.target, message, options);
  }

  async claimDue(options: ClaimOptions) { return queue.claimDue(this.db, options); }
  async complete(batch: readonly Completion[], now: number) { return queue.complete(this.db, batch, now); }
  async releaseLeases(owner: string, held: readonly HeldLease[], now: number) { await queue.releaseLeases(this.db, owner, held, now); }
  async releaseAllLeases(now: number) { return queue.releaseAllLeases(this.db, now); }
  async releaseUnanswered(owner: string, leaseUntil: number, keep: readonly DeliveryId[], now: number) { return queue.releaseUnanswered(this.db, owner, leaseUntil, keep, now); }
  async nextDueAt() { return queue.nextDueAt(this.db); }
  async queueDepth() { return queue.queueDepth(this.db); }
  async extendLeases(owner: string, held: readonly HeldLease[], until: number) { return queue.extendLeases(this.db, owner, held, until); }
  async checkLeases(owner: string, held: readonly HeldLease[], now: number) { return queue.checkLeases(this.db, owner, held, now); }
  /** Moved by the attached worker's link (NOTIFY herald_endpoint, or the link lost); -1 while none is attached. */
  changeEpoch() { return this.links > 0 ? this.epoch : -1; }
  async attachWorker(owner: string, onDue: () => void) {
    const link = new WorkerLink(this.db, owner, onDue, () => this.epoch++);
    try {
      await link.open();
    } catch (err) {
      await link.close();
      throw err;
    }
    this.links++;
    this.epoch++;
    return async () => {
      this.links--;
      await link.close();
    };
  }
  async purge(before: number, limit: number) { return purge(this.db, before, limit); }

  async listMessages(appId: ApplicationId, filter: MessageFilter, page: PageRequest) { return log.listMessages(this.db, appId, filter, page); }
  async getMessage(appId: ApplicationId, id: MessageId) { return log.getMessage(this.db, appId, id); }
  async listDeliveries(messageId: MessageId) { return log.listDeliveries(this.db, messageId); }
  async listMessageAttempts(messageId: MessageId, page: PageRequest) { return log.listMessageAttempts(this.db, messageId, page); }
  async listEndpointAttempts(endpointId: EndpointId, page: PageRequest, filter?: AttemptFilter) { return log.listEndpointAttempts(this.db, endpointId, page, filter); }
  async endpointStats(endpointId: EndpointId, since: number, now: number) { return log.endpointStats(this.db, endpointId, since, now); }
  async listTriage(filter: TriageFilter, page: PageRequest) { return triage.listTriage(this.db, filter, page); }
  async resend(message: Message, endpointId: EndpointId, now: number) { return log.resend(this.db, message, endpointId, now); }
  async recover(endpointId: EndpointId, since: number, now: number) { return log.recover(this.db, endpointId, since, now); }

  async createAdminKey(key: AdminKey) { return admin.createAdminKey(this.db, key); }
  async listAdminKeys(page: PageRequest) { return admin.listAdminKeys(this.db, page); }
  async getAdminKeyByHash(keyHash: string) { return admin.getAdminKeyByHash(this.db, keyHash); }
  async deleteAdminKey(id: AdminKeyId) { return admin.deleteAdminKey(this.db, id); }
  async recordOperationalEvent(event: OperationalEvent) { await admin.recordOperationalEvent(this.db, event); }
  async listOperationalEvents(filter: OperationalEventFilter, page: PageRequest) { return admin.listOperationalEvents(this.db, filter, page); }
}

/**
 * Opens a PostgreSQL store from a `postgres://` URL; `?schema=NAME` picks the
 * schema (default `public`) and `?pool=N` the pool size (default 10). Call
 * `migrate()` before use.
 */
export function openPostgresStore(url: string, options: PostgresOptions = {}): PostgresStore {
  const parsed = parsePostgresUrl(url);
  return new PostgresStore(parsed.connectionString, { ...parsed.options, ...options });
}

export type { Queryable } from "./db.js";
export type { SqlClient } from "./outbox.js";
export type { OutboxMessage } from "../store.js";
