import type { AdminKeyId, ApplicationId, DeliveryId, EndpointId, MessageId } from "../core/ids.js";
import type {
  PortalSettings,
  AdminKey,
  Application,
  Attempt,
  Delivery,
  DeliveryStatus,
  DisabledReason,
  Endpoint,
  EventType,
  Message,
  Metadata,
  OperationalEvent,
  OperationalEventType,
} from "./model.js";

/**
 * The one narrow persistence interface of Herald. All SQL lives behind it: the
 * API, publisher and dispatcher only call these methods. Implemented for SQLite
 * (`SqliteStore`) and PostgreSQL; both must pass the same conformance suite.
 */

/** Newest first; `cursor` is the id of the last row of the previous page. */
export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface NewApplication {
  name: string;
  uid: string | null;
  metadata: Metadata;
  portal?: PortalSettings | null;
}

export type ApplicationPatch = Partial<NewApplication>;

export interface NewEventType {
  name: string;
  description: string;
  schema: object | null;
  examples: unknown[];
}

export type EventTypePatch = Partial<NewEventType & { archived: boolean }>;

/** A new endpoint as the caller built it (id, secret and defaults already chosen). */
export type NewEndpoint = Omit<Endpoint, "lastSuccessAt" | "previousSecret" | "previousSecretExpiresAt" | "updatedAt">;

/**
 * The configuration fields of an endpoint that a PATCH may change; only the
 * fields present are written. Status is not among them: it changes only
 * through `setEndpointEnabled` and the failure rules, each a conditional write.
 */
export type EndpointPatch = Partial<
  Pick<Endpoint, "url" | "description" | "events" | "channels" | "filter" | "ordering" | "transformation" | "headers" | "authentication" | "timeoutMs" | "rateLimit" | "metadata">
>;

/** What `setEndpointEnabled` did: the endpoint as it is now, and whether this call changed its status. */
export interface EndpointStatusChange {
  endpoint: Endpoint;
  changed: boolean;
}

/** A message to publish in the caller's transaction, payload already serialized. */
export interface OutboxMessage {
  /** `app_` id or the application's `uid`. */
  app: string;
  eventType: string;
  payload: string;
  channels: string[] | null;
  eventId: string | null;
}

/** One message to publish. `only` restricts fan-out to one endpoint (the `test` action). */
export interface PublishRequest {
  message: Message;
  only?: EndpointId;
}

/**
 * Deliveries the publisher may hand straight to an in-process dispatcher: when
 * `lease` is given, fresh pending deliveries are written already leased to that
 * owner, so nobody else claims them while the in-memory copy is in flight.
 */
export interface PublishOptions {
  now: number;
  /** Delay before the first attempt (the retry schedule's first entry). Default: 0. */
  firstDelayMs?: number;
  /**
   * Only honoured when the first attempt is due at once. At most `max`
   * deliveries of the batch are leased (what the dispatcher has room for);
   * the rest are written due now, for any worker to claim.
   */
  lease?: { owner: string; until: number; max: number };
}

export interface PublishResult {
  message: Message;
  /** False when an earlier message with the same idempotency key was returned instead. */
  created: boolean;
  /** Jobs leased to `options.lease.owner` (empty when no lease was asked or the message existed). */
  jobs: DeliveryJob[];
  /**
   * Deliveries written pending and not leased (due now, after the first delay,
   * or queued behind a FIFO head): what a claim is for. 0 tells the publisher
   * there is nothing to wake a worker for (a message to no endpoint, or every
   * delivery leased).
   */
  queued: number;
}

/**
 * The lease a worker holds on a delivery: its owner and the generation the
 * claim gave it. Every claim increments the generation, so a lease that ran out
 * and was claimed again (by anyone) never matches the old one: completions,
 * releases and renewals are fenced by both (see docs/guarantees.md).
 */
export interface Lease {
  owner: string;
  gen: number;
}

/** A delivery and the lease under which a worker holds it. */
export interface HeldLease {
  id: DeliveryId;
  /** The delivery's message: PostgreSQL partitions deliveries by it, and looks in one partition only when given it. */
  messageId: MessageId;
  gen: number;
}

/** Everything the sender needs for one attempt, loaded in the claim. */
export interface DeliveryJob {
  delivery: Pick<Delivery, "id" | "messageId" | "endpointId" | "appId" | "attempts" | "scheduleIndex" | "cycleStartedAt">;
  message: Pick<Message, "id" | "eventType" | "payload" | "createdAt" | "traceContext">;
  endpoint: Endpoint;
  /** Whose lease this job runs under; a completion carries it back. */
  lease: Lease;
}

/** What `checkLeases` says of a delivery this worker still holds. */
export interface LeaseCheck {
  id: DeliveryId;
  /** The endpoint's status now, and when it last changed (a stale in-memory copy is re-read). */
  endpointStatus: Endpoint["status"];
  endpointUpdatedAt: number;
}

export interface ClaimOptions {
  owner: string;
  now: number;
  /** Lease deadline written into claimed deliveries. */
  leaseUntil: number;
  limit: number;
  /** Endpoints this worker has no room for right now; their deliveries stay queued. */
  excludeEndpoints?: readonly EndpointId[];
}

/** What to record when one attempt (or a skip) is done. Computed by the dispatcher. */
export interface Completion {
  deliveryId: DeliveryId;
  /** The delivery's message (see `HeldLease.messageId`). */
  messageId: MessageId;
  /** Applied only while the delivery is still under this lease (fencing); otherwise dropped, attempt row included. */
  lease: Lease;
  endpointId: EndpointId;
  /** Absent for a delivery skipped without an attempt (its endpoint is disabled). */
  attempt?: Attempt;
  status: DeliveryStatus;
  attempts: number;
  scheduleIndex: number;
  nextAttemptAt: number | null;
  cycleStartedAt: number | null;
  /**
   * `gone`: disable the endpoint now. `failing`: disable it unless it had a
   * successful attempt at or after `cycleStartedAt` (checked atomically in the store).
   */
  disableEndpoint?: Exclude<DisabledReason, "manual">;
  /**
   * The delivery's endpoint is FIFO (as the worker read it): once this is
   * recorded, the store makes the next delivery of that endpoint's queue due
   * (docs/delivery.md, "FIFO endpoints").
   */
  fifo?: true;
}

export interface CompletionEffects {
  /** Endpoints this batch disabled (for operational events and caches). */
  disabled: { endpointId: EndpointId; reason: DisabledReason }[];
  /**
   * Completions not applied because their lease was lost meanwhile (it ran
   * out and was claimed again, the delivery was resent, re-queued or deleted):
   * nothing of them was written.
   */
  fenced: DeliveryId[];
  /** FIFO deliveries this batch made due (the next of their endpoint's queue): a worker may claim them now. */
  promoted?: number;
}

export interface MessageFilter {
  eventType?: string | undefined;
  /** Messages with at least one delivery in this status. */
  status?: DeliveryStatus | undefined;
  before?: number | undefined;
  after?: number | undefined;
}

/** Filters of an endpoint's attempt log; each one left out matches everything. */
export interface AttemptFilter {
  /** Only successful (true) or failed (false) attempts. */
  success?: boolean | undefined;
  /** Only attempts answered with this HTTP status. */
  statusCode?: number | undefined;
  /** Only attempts of messages of this event type. */
  eventType?: string | undefined;
  /** Attempts made before / after these times (epoch ms, exclusive). */
  before?: number | undefined;
  after?: number | undefined;
}

export interface OperationalEventFilter {
  appId?: ApplicationId | undefined;
  type?: OperationalEventType | undefined;
  endpointId?: EndpointId | undefined;
}

export interface EndpointStats {
  since: number;
  attempts: number;
  succeeded: number;
  failed: number;
  /** Milliseconds, over the most recent attempts in the window. */
  latency: { p50: number | null; p90: number | null; p99: number | null };
  deliveries: Record<DeliveryStatus, number>;
  /** Successful attempts per hour bucket, oldest first (for charts). */
  series: { t: number; succeeded: number; failed: number; p50: number | null }[];
}

/**
 * One endpoint that needs an operator (`listTriage`): disabled, or active
 * with a failed last attempt. Carries no secret or credential.
 */
export interface TriageEntry {
  endpoint: Pick<Endpoint, "id" | "appId" | "url" | "description" | "status" | "disabledReason" | "lastSuccessAt" | "createdAt">;
  application: Pick<Application, "id" | "name" | "uid">;
  /** The endpoint's newest attempt, or null when it never had one. */
  lastAttempt: Pick<Attempt, "id" | "messageId" | "createdAt" | "success" | "statusCode" | "errorKind" | "errorMessage" | "attemptNumber"> | null;
  /** Time of the first attempt after the last successful one (null when no attempt failed since). */
  failingSince: number | null;
  /** When it was last disabled (its newest `endpoint.disabled` operational event), or null. */
  disabledAt: number | null;
  /** Attempts at or after `since` (the filter's window), and how many of them succeeded. */
  window: { attempts: number; succeeded: number };
  /** Deliveries waiting (pending: queued or retrying) and kept while disabled (skipped). */
  backlog: { pending: number; skipped: number };
}

export interface TriageFilter {
  /** Start of the success-rate window (epoch ms). */
  since: number;
}

export interface Store {
  readonly kind: "sqlite" | "postgres";

  /** Applies pending numbered migrations; safe when two processes start at once. */
  migrate(): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;

  getSetting(key: string): Promise<string | null>;
  setSetting(key: string, value: string): Promise<void>;
  /** Stores the value only if the key has none yet; tells whether it did. */
  setSettingIfAbsent(key: string, value: string): Promise<boolean>;

  createApplication(app: Application): Promise<Application>;
  /** By `app_` id or by the producer's `uid`. */
  getApplication(idOrUid: string): Promise<Application | null>;
  listApplications(page: PageRequest): Promise<Page<Application>>;
  updateApplication(id: ApplicationId, patch: ApplicationPatch, now: number): Promise<Application | null>;
  /** With its endpoints, messages, deliveries, attempts and its own settings (named `…:<app id>`). */
  deleteApplication(id: ApplicationId): Promise<boolean>;

  createEventType(type: EventType): Promise<EventType>;
  getEventType(name: string): Promise<EventType | null>;
  listEventTypes(page: PageRequest & { includeArchived?: boolean }): Promise<Page<EventType>>;
  updateEventType(name: string, patch: EventTypePatch, now: number): Promise<EventType | null>;
  deleteEventType(name: string): Promise<boolean>;

  createEndpoint(endpoint: NewEndpoint): Promise<Endpoint>;
  getEndpoint(appId: ApplicationId, id: EndpointId): Promise<Endpoint | null>;
  listEndpoints(appId: ApplicationId, page: PageRequest): Promise<Page<Endpoint>>;
  /**
   * Writes the fields present in `patch` (and `updatedAt`) in one statement, and
   * nothing else: a concurrent status change, rotation or other patch is kept.
   * An empty patch writes nothing. Null when the endpoint does not exist.
   */
  updateEndpoint(appId: ApplicationId, id: EndpointId, patch: EndpointPatch, now: number): Promise<Endpoint | null>;
  /**
   * A conditional status change, in one transaction. Enabling applies only to a
   * disabled endpoint: status active, `disabledReason` cleared, and its failure
   * state reset (its queued deliveries that wait for a retry start the schedule
   * again). Disabling applies only to an active endpoint (reason `manual`): one
   * the failure rules already disabled keeps its reason. `changed` tells whether
   * this call made the change (operational events are emitted only then). Null
   * when the endpoint does not exist.
   */
  setEndpointEnabled(appId: ApplicationId, id: EndpointId, enabled: boolean, now: number): Promise<EndpointStatusChange | null>;
  /** Deletes the endpoint with its deliveries and attempts. */
  deleteEndpoint(appId: ApplicationId, id: EndpointId): Promise<boolean>;
  /**
   * Makes `secret` the newest; the old one keeps signing until `previousExpiresAt`.
   * One statement: the secret moved into `previous` is the one stored at that instant.
   */
  rotateEndpointSecret(appId: ApplicationId, id: EndpointId, secret: string, previousExpiresAt: number, now: number): Promise<Endpoint | null>;

  /**
   * Writes each message with one delivery per matching endpoint, all in one
   * durable transaction (group commit). A message whose `eventId` was already
   * used in its application returns the first message and creates nothing.
   */
  publish(batch: readonly PublishRequest[], options: PublishOptions): Promise<PublishResult[]>;

  /** Leases up to `limit` due deliveries, oldest due first. */
  claimDue(options: ClaimOptions): Promise<DeliveryJob[]>;
  /**
   * Records finished attempts and delivery transitions in one transaction.
   * Each completion applies only if its delivery is still pending under the
   * completion's lease (owner and generation); the others are reported in
   * `fenced` and leave no trace.
   */
  complete(batch: readonly Completion[], now: number): Promise<CompletionEffects>;
  /** Makes deliveries still held under these leases due again at `now` (graceful stop, overflow). */
  releaseLeases(owner: string, held: readonly HeldLease[], now: number): Promise<void>;
  /** Makes every leased delivery due now; for an embedded server taking back its own previous run's work. */
  releaseAllLeases(now: number): Promise<number>;
  /**
   * Gives back what one claim may have leased when its answer never came
   * (the connection dropped after the claim committed, or a read after it
   * failed): the deliveries still pending under `owner` with exactly that
   * claim's deadline `leaseUntil`, taken by a claim (generation > 0, not
   * leased at publish), except `keep` (what the worker does hold). Without
   * it they would sit out the whole lease. Returns how many were given back.
   */
  releaseUnanswered(owner: string, leaseUntil: number, keep: readonly DeliveryId[], now: number): Promise<number>;
  /** Earliest `nextAttemptAt` of any pending delivery, or null. */
  nextDueAt(): Promise<number | null>;
  /**
   * Pending deliveries: waiting, scheduled for a retry or leased. One count over
   * the partial index of pending rows (`deliveries_due`): it grows with the
   * backlog, not with the history or the number of endpoints (`/metrics`).
   */
  queueDepth(): Promise<number>;
  /**
   * Moves the lease deadline of those of `held` still leased to `owner` under
   * the same generation to `until` (the others are left alone); returns the
   * ids it moved. A worker renews what it holds in memory, so work waiting
   * behind slow or rate-limited endpoints is never taken by another worker
   * while it lives; what it did not get back is no longer its own.
   */
  extendLeases(owner: string, held: readonly HeldLease[], until: number): Promise<DeliveryId[]>;
  /**
   * Of `held`, the deliveries still pending under `owner`'s lease of that
   * generation with a deadline after `now`, with their endpoint's status:
   * what a worker asks right before it starts attempts, so that it never
   * sends under a lease it lost, nor to an endpoint deleted or disabled meanwhile.
   */
  checkLeases(owner: string, held: readonly HeldLease[], now: number): Promise<LeaseCheck[]>;
  /**
   * Registers a delivering process for as long as it runs; the returned
   * function unregisters it. PostgreSQL: a dedicated connection LISTENs for
   * deliveries made due elsewhere (calling `onDue`), and holds the presence
   * lock through which other workers see that this one is alive; leases of
   * workers that are gone are taken back at once, at start-up and then
   * periodically. SQLite: nothing (one delivering process per file).
   */
  attachWorker(owner: string, onDue: () => void): Promise<() => Promise<void>>;
  /**
   * A number that moves whenever an endpoint changed in a way a delivering
   * process must see before it sends work it already holds (deleted; its
   * configuration, secret or status changed), or when this process may have
   * missed such news (PostgreSQL: its worker connection was lost). Read
   * synchronously, before a claim and again before an attempt: when it moved,
   * the worker asks `checkLeases` first. -1 when unknown (always ask).
   * SQLite: a counter kept by triggers. PostgreSQL: NOTIFYs on
   * `herald_endpoint`, heard by the attached worker.
   */
  changeEpoch(): number;
  /**
   * Retention: deletes, in one short transaction, up to `limit` rows of each
   * kind created before `before`: attempts, operational events, and messages
   * with nothing pending (their deliveries and attempts with them). Returns how
   * many rows it deleted: 0 when nothing that old is left (on PostgreSQL, also
   * when another process is purging at this moment).
   */
  purge(before: number, limit: number): Promise<number>;

  listMessages(appId: ApplicationId, filter: MessageFilter, page: PageRequest): Promise<Page<Message>>;
  getMessage(appId: ApplicationId, id: MessageId): Promise<Message | null>;
  listDeliveries(messageId: MessageId): Promise<Delivery[]>;
  listMessageAttempts(messageId: MessageId, page: PageRequest): Promise<Page<Attempt>>;
  listEndpointAttempts(endpointId: EndpointId, page: PageRequest, filter?: AttemptFilter): Promise<Page<Attempt>>;
  endpointStats(endpointId: EndpointId, since: number, now: number): Promise<EndpointStats>;
  /**
   * Every application's endpoints that need an operator (disabled, or active
   * with a failed newest attempt), newest endpoint first, with the figures of
   * `TriageEntry`. A constant number of statements per page, whatever the
   * number of applications and endpoints: the page, then its figures.
   */
  listTriage(filter: TriageFilter, page: PageRequest): Promise<Page<TriageEntry>>;

  /**
   * Queues one more delivery of a message to an endpoint now, at the start of the
   * retry schedule (creating the delivery if the endpoint never had one).
   */
  resend(message: Message, endpointId: EndpointId, now: number): Promise<Delivery>;
  /**
   * Re-queues every failed or skipped delivery of the endpoint created at or
   * after `since`, and returns how many; null (nothing re-queued) when the
   * endpoint is not active or does not exist. The endpoint's status is checked
   * in the same statement, so a concurrent disable either comes first (null) or
   * waits until the re-queue is committed.
   */
  recover(endpointId: EndpointId, since: number, now: number): Promise<number | null>;

  /** Stores a new admin key (its hash only). A `keyHash` already stored is a `conflict`. */
  createAdminKey(key: AdminKey): Promise<AdminKey>;
  /** Newest first; never returns key material beyond the hash. */
  listAdminKeys(page: PageRequest): Promise<Page<AdminKey>>;
  /** The key whose SHA-256 (lowercase hex) is `keyHash`, or null. Called on every request made with such a key. */
  getAdminKeyByHash(keyHash: string): Promise<AdminKey | null>;
  /** Revokes (deletes) a key; tells whether it existed. */
  deleteAdminKey(id: AdminKeyId): Promise<boolean>;

  /** Appends one operational event (contract §5) to the log the dashboard reads. */
  recordOperationalEvent(event: OperationalEvent): Promise<void>;
  /** Newest first, filtered by application, endpoint and/or type. */
  listOperationalEvents(filter: OperationalEventFilter, page: PageRequest): Promise<Page<OperationalEvent>>;
}
