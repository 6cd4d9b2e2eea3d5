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
import { AppCache } from "./app-cache.js";
import { Checkpointer } from "./checkpointer.js";
import { Db } from "./db.js";
import { acquireDeliveryLock } from "./delivery-lock.js";
import * as endpoints from "./endpoints.js";
import * as log from "./log.js";
import { publishInTransaction } from "./outbox.js";
import { publish } from "./publish.js";
import * as queue from "./queue.js";
import * as triage from "./triage.js";
import { WalSync } from "./wal-sync.js";
import { purge } from "./retention.js";

/**
 * The Store on one SQLite file (WAL). better-sqlite3 is synchronous; the
 * methods are async only to share the interface with PostgreSQL. One
 * delivering process per file (see docs/guarantees.md).
 *
 * What blocks the event loop is kept off it: publishes commit unsynced and
 * are answered after an `fdatasync` of the WAL on the thread pool (`WalSync`,
 * shared by every publish committed meanwhile), and checkpoints run in a
 * thread of their own (`Checkpointer`).
 */
export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  /** Synced on every commit: catalog, endpoints, publish. */
  readonly db: Db;
  /** Claims, completions and lease releases: see `Db` on why these need not sync. */
  private queueDb: Db | null = null;
  private epochThisTurn: number | undefined;
  /** Null in memory: nothing to sync or checkpoint. */
  private readonly walSync: WalSync | null;
  private readonly checkpointer: Checkpointer | null;
  /** Read on the queue connection, like every read on the publish path: see `getApplication`. */
  private readonly apps = new AppCache(() => this.queue);

  constructor(readonly path: string) {
    this.db = new Db(path);
    // A file system where WAL mode cannot be used (SQLite then keeps its rollback journal): publishes
    // go through the synced connection, as they did before the WAL sync moved off the event loop.
    const wal = path !== ":memory:" && this.db.raw.pragma("journal_mode", { simple: true }) === "wal";
    this.walSync = wal ? new WalSync(`${path}-wal`) : null;
    this.checkpointer = wal ? new Checkpointer(path) : null;
  }

  private get queue(): Db {
    this.queueDb ??= this.path === ":memory:" ? this.db : new Db(this.path, false);
    return this.queueDb;
  }

  async migrate() { this.db.migrate(); }
  async close() {
    await this.checkpointer?.close();
    await this.walSync?.close();
    this.queueDb?.close();
    this.db.close();
  }

  async getSetting(key: string) { return catalog.getSetting(this.db, key); }
  async setSetting(key: string, value: string) { catalog.setSetting(this.db, key, value); }
  async setSettingIfAbsent(key: string, value: string) { return catalog.setSettingIfAbsent(this.db, key, value); }

  async createApplication(app: Application) {
    this.apps.clear();
    return catalog.createApplication(this.db, app);
  }
  /**
   * From `AppCache`, read on the queue connection like every read on the publish path: SQLite drops a
   * connection's whole page cache when another connection wrote, and publishes write on that one.
   */
  async getApplication(idOrUid: string) { return this.apps.get(idOrUid); }
  async listApplications(page: PageRequest) { return catalog.listApplications(this.db, page); }
  async updateApplication(id: ApplicationId, patch: ApplicationPatch, now: number) {
    this.apps.clear();
    return catalog.updateApplication(this.db, id, patch, now);
  }
  async deleteApplication(id: ApplicationId) {
    this.apps.clear();
    return catalog.deleteApplication(this.db, id);
  }

  async createEventType(type: EventType) { return catalog.createEventType(this.db, type); }
  async getEventType(name: string) { return catalog.getEventType(this.queue, name); }
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

  /** Committed on the unsynced connection, answered once the WAL is synced: as durable as a FULL commit, without the wait on the event loop. */
  async publish(batch: readonly PublishRequest[], options: PublishOptions) {
    if (!this.walSync) return publish(this.db, batch, options);
    const results = publish(this.queue, batch, options);
    this.checkpointer?.start();
    await this.walSync.sync();
    return results;
  }

  async claimDue(options: ClaimOptions) { return queue.claimDue(this.queue, options); }
  async complete(batch: readonly Completion[], now: number) {
    this.checkpointer?.start();
    return queue.complete(this.queue, batch, now);
  }
  async releaseLeases(owner: string, held: readonly HeldLease[], now: number) { queue.releaseLeases(this.queue, owner, held, now); }
  async releaseAllLeases(now: number) { return queue.releaseAllLeases(this.queue, now); }
  async releaseUnanswered(owner: string, leaseUntil: number, keep: readonly DeliveryId[], now: number) { return queue.releaseUnanswered(this.queue, owner, leaseUntil, keep, now); }
  async nextDueAt() { return queue.nextDueAt(this.queue); }
  async queueDepth() { return queue.queueDepth(this.queue); }
  async extendLeases(owner: string, held: readonly HeldLease[], until: number) { return queue.extendLeases(this.queue, owner, held, until); }
  async checkLeases(owner: string, held: readonly HeldLease[], now: number) { return queue.checkLeases(this.queue, owner, held, now); }
  /** Read once per turn of the event loop: a worker starting many attempts together asks SQLite once. */
  changeEpoch() {
    if (this.epochThisTurn === undefined) {
      this.epochThisTurn = queue.changeEpoch(this.queue);
      setImmediate(() => {
        this.epochThisTurn = undefined;
      });
    }
    return this.epochThisTurn;
  }
  /**
   * One delivering process per file, enforced by an exclusive lock on a side
   * file (see `acquireDeliveryLock`): a second one is refused with a clear
   * `conflict`. Nothing to listen to: publishes in other processes are found
   * by the poll.
   */
  async attachWorker(owner: string, _onDue: () => void) {
    if (this.path === ":memory:") return async () => {};
    const release = acquireDeliveryLock(this.db, this.path, owner);
    return async () => release();
  }
  async purge(before: number, limit: number) { return purge(this.queue, before, limit); }

  /**
   * Runs `fn` in one durable (synced) transaction on the store's connection;
   * `fn` must be synchronous. The transactional outbox's SQLite form: the
   * caller's statements and `publishInTransaction` share it.
   */
  transaction<T>(fn: (db: Db) => T): T {
    return this.db.tx(() => fn(this.db));
  }
  /** Publishes inside `transaction` (joins it). */
  /** An event type, read synchronously (for checks inside an outbox transaction). */
  eventTypeNow(name: string) {
    return catalog.getEventType(this.db, name);
  }

  publishInTransaction(message: OutboxMessage, options: { now: number; firstDelayMs: number }): PublishResult {
    return publishInTransaction(this.db, message, options);
  }

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
  async recordOperationalEvent(event: OperationalEvent) { admin.recordOperationalEvent(this.db, event); }
  async listOperationalEvents(filter: OperationalEventFilter, page: PageRequest) { return admin.listOperationalEvents(this.db, filter, page); }
}

/** Opens (creating if needed) a SQLite store. Call `migrate()` before use. */
export function openSqliteStore(path: string): SqliteStore {
  return new SqliteStore(path);
}
