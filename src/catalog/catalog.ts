import type { ValidateFunction } from "ajv";
import type { Logger } from "pino";
import { HeraldError } from "../core/errors.js";
import type { EventType } from "../store/model.js";
import type { Store } from "../store/store.js";
import { checkExamples, compileSchema, violations } from "./schema.js";

export interface EventCatalogOptions {
  /**
   * How long a looked-up event type (or its absence) is trusted before it is read
   * again, so that a change made by another process applies within this time.
   * Changes made through this process apply at once. Default: 2000 ms.
   */
  ttlMs?: number;
  /** Event types kept in memory at most. Default: 1000. */
  maxEntries?: number;
  logger?: Logger;
}

interface Entry {
  /** The validator of the type's schema; null when the type is unknown or has no schema. */
  validate: ValidateFunction | null;
  updatedAt: number | null;
  readAt: number;
}

/**
 * The event catalog's payload validation. A publish of an event type that is in
 * the catalog with a schema is checked against it (archived types too); types
 * not in the catalog, or without a schema, are accepted as they are.
 *
 * Each schema is compiled once and kept; the type is re-read after `ttlMs` and
 * recompiled only if its `updatedAt` changed.
 *
 * @example
 * const catalog = new EventCatalog(store);
 * await catalog.validatePayload("order.created", { id: 1 }); // throws validation_failed (422)
 */
export class EventCatalog {
  private readonly entries = new Map<string, Entry | Promise<Entry>>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(
    private readonly store: Store,
    private readonly options: EventCatalogOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 2000;
    this.maxEntries = options.maxEntries ?? 1000;
  }

  /**
   * Checks what an event type is about to be stored with: the schema must compile
   * and every example must match it. Throws `validation_failed` (422).
   */
  check(schema: object | null, examples: readonly unknown[]): void {
    if (schema === null) return;
    checkExamples(compileSchema(schema), examples);
  }

  /** Forgets what is known about `name` (after this process changed or deleted it). */
  invalidate(name: string): void {
    this.entries.delete(name);
  }

  /**
   * The payload check for `eventType`, or null when there is nothing to check
   * (so callers holding JSON text parse it only when needed).
   */
  async validator(eventType: string): Promise<((payload: unknown) => void) | null> {
    return this.check_(eventType, (await this.entry(eventType)).validate);
  }

  /**
   * The same check for a synchronous caller (a SQLite outbox transaction), which
   * cannot await: `read` looks the event type up synchronously when the cached
   * entry is missing or stale.
   */
  validatorSync(eventType: string, read: (name: string) => EventType | null): ((payload: unknown) => void) | null {
    const now = Date.now();
    const known = this.entries.get(eventType);
    if (known && !(known instanceof Promise) && now - known.readAt < this.ttlMs) return this.check_(eventType, known.validate);
    const entry = this.fromType(read(eventType), known instanceof Promise ? undefined : known, now);
    this.remember(eventType, entry);
    return this.check_(eventType, entry.validate);
  }

  private check_(eventType: string, validate: ValidateFunction | null): ((payload: unknown) => void) | null {
    if (!validate) return null;
    return (payload) => {
      if (validate(payload)) return;
      const errors = violations(validate, "/payload");
      throw new HeraldError(
        "validation_failed",
        `the payload does not match the schema of event type ${JSON.stringify(eventType)}: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`,
        errors,
      );
    };
  }

  /** Throws `validation_failed` with one `/payload/…` error per violation when the payload does not match. */
  async validatePayload(eventType: string, payload: unknown): Promise<void> {
    (await this.validator(eventType))?.(payload);
  }

  private async entry(name: string): Promise<Entry> {
    const now = Date.now();
    const known = this.entries.get(name);
    if (known && (known instanceof Promise || now - known.readAt < this.ttlMs)) return known;
    const loading = this.load(name, known instanceof Promise ? undefined : known, now);
    this.remember(name, loading);
    try {
      const entry = await loading;
      if (this.entries.get(name) === loading) this.entries.set(name, entry);
      return entry;
    } catch (err) {
      if (this.entries.get(name) === loading) this.entries.delete(name);
      throw err;
    }
  }

  private async load(name: string, previous: Entry | undefined, now: number): Promise<Entry> {
    return this.fromType(await this.store.getEventType(name), previous, now);
  }

  private fromType(type: EventType | null, previous: Entry | undefined, now: number): Entry {
    if (!type || type.schema === null) return { validate: null, updatedAt: type?.updatedAt ?? null, readAt: now };
    if (previous && previous.updatedAt === type.updatedAt) return { ...previous, readAt: now };
    return { validate: this.compileStored(type), updatedAt: type.updatedAt, readAt: now };
  }

  /** A stored schema that no longer compiles (stored before schemas were checked) validates nothing. */
  private compileStored(type: EventType): ValidateFunction | null {
    try {
      return compileSchema(type.schema!);
    } catch (err) {
      this.options.logger?.warn({ eventType: type.name, err: err instanceof Error ? err.message : err }, "stored event-type schema does not compile; payloads of this type are not validated");
      return null;
    }
  }

  private remember(name: string, value: Entry | Promise<Entry>): void {
    if (!this.entries.has(name) && this.entries.size >= this.maxEntries) {
      // Map order is insertion order: drop the oldest tenth.
      let drop = Math.ceil(this.maxEntries / 10);
      for (const key of this.entries.keys()) {
        if (drop-- <= 0) break;
        this.entries.delete(key);
      }
    }
    this.entries.set(name, value);
  }
}
