import type { EventCatalog } from "../catalog/catalog.js";
import { HeraldError } from "../core/errors.js";
import { distinctChannels } from "../core/filters.js";
import type { ApplicationId } from "../core/ids.js";
import { checkJsonText, checkJsonValue, MAX_JSON_DEPTH, scanJsonText } from "../core/json-limits.js";
import { BatchFaults, checkBatchSize, MAX_BATCH_MESSAGES } from "../publish/batch.js";
import type { PublishInput, Publisher } from "../publish/types.js";
import type { Message } from "../store/model.js";

/** One message to publish, as the API's body or the library's call gives it. */
export interface MessageInput {
  eventType: string;
  /** A JSON value; from the library's code, JSON text also (a string is taken as the payload's text). */
  payload: unknown;
  channels?: readonly string[] | null | undefined;
  /** The idempotency key: the same key answers the first message. */
  eventId?: string | null | undefined;
}

/**
 * Where the messages come from, which decides what is left to check:
 * - `request`: a parsed request body, its shape checked by the route's schema
 *   and its depth by the body parser (`bodyDepth`: the body's own depth, when
 *   the parser allowed payloads deeper than the limit, as the bulk route does);
 * - `code`: the library's caller: the payload is any value (or JSON text), checked here.
 */
export type MessageSource = { from: "request"; bodyDepth?: number | undefined } | { from: "code" };

type Result = { message: Message; created: boolean };

/**
 * Publishing, shared by the HTTP routes and the `Herald` library: each payload
 * serialized once (the bytes stored and sent on every attempt), its size and
 * depth checked, its event type's catalog schema applied, then handed to the
 * publisher. A bulk publish checks every message and refuses the whole batch
 * with one 422 naming each invalid one (contract §9).
 */
export class MessageWrites {
  constructor(
    private readonly deps: { publisher: Publisher; catalog: EventCatalog; maxPayloadBytes: number },
  ) {}

  /** One message; resolves once it and its deliveries are durably stored. */
  async publish(appId: ApplicationId, m: MessageInput, source: MessageSource, traceparent?: string): Promise<Result> {
    const payload = this.serialize(m.payload, source, "the payload is");
    (await this.deps.catalog.validator(m.eventType))?.(payloadValue(m.payload, source));
    return this.deps.publisher.publish({ ...this.input(appId, m, payload), ...(traceparent ? { traceparent } : {}) });
  }

  /**
   * Up to 1,000 messages in one transaction, all or nothing; answers in input
   * order. `read` takes each item as the caller has it to a `MessageInput`
   * (what it throws is that message's fault, as every check here).
   */
  async publishBatch<T>(
    appId: ApplicationId,
    messages: readonly T[],
    read: (item: T) => MessageInput,
    source: MessageSource,
    traceparent?: string,
  ): Promise<Result[]> {
    checkBatchLength(messages);
    const faults = new BatchFaults();
    const inputs: PublishInput[] = [];
    let total = 0;
    // The catalog's check of each event type, looked up once per type of the batch, not once per message.
    const validators = new Map<string, ((payload: unknown) => void) | null>();
    for (const [i, item] of messages.entries()) {
      let m: MessageInput;
      let payload: string;
      try {
        m = read(item);
        payload = this.serialize(m.payload, source, "is", (size) => (total += size));
        if (!validators.has(m.eventType)) validators.set(m.eventType, await this.deps.catalog.validator(m.eventType));
        validators.get(m.eventType)?.(payloadValue(m.payload, source));
      } catch (err) {
        faults.add(i, "payload", err);
        continue;
      }
      inputs.push(this.input(appId, m, payload));
    }
    checkBatchSize(total, this.deps.maxPayloadBytes);
    faults.throwIfAny();
    return this.deps.publisher.publishBatch(inputs, traceparent ? { traceparent } : {});
  }

  /**
   * The payload's compact JSON, checked: the value as `JSON.stringify` writes
   * it (or the caller's own JSON text), at most `HERALD_MAX_PAYLOAD_BYTES`
   * (`counted` sees every size, too large ones included) and at most
   * `MAX_JSON_DEPTH` deep.
   */
  private serialize(value: unknown, source: MessageSource, what: string, counted?: (size: number) => void): string {
    if (source.from === "code" && typeof value !== "string") checkJsonValue(value, "/payload", "the payload");
    const text = source.from === "code" && typeof value === "string" ? value : JSON.stringify(value);
    if (text === undefined) throw new HeraldError("validation_failed", "payload: must be a JSON value");
    const size = Buffer.byteLength(text, "utf8");
    counted?.(size);
    const limit = this.deps.maxPayloadBytes;
    if (size > limit) throw new HeraldError("payload_too_large", `${what} ${size} bytes of JSON; the limit is ${limit} (HERALD_MAX_PAYLOAD_BYTES)`);
    if (source.from === "code") {
      if (typeof value === "string") checkJsonText(text, "the payload");
    } else if ((source.bodyDepth ?? 0) > MAX_JSON_DEPTH + 3) {
      // The body's own limit allowed for the envelope: each payload gets the single publish's.
      scanJsonText(text, "the payload", MAX_JSON_DEPTH);
    }
    return text;
  }

  private input(appId: ApplicationId, m: MessageInput, payload: string): PublishInput {
    return { appId, eventType: m.eventType, payload, channels: distinctChannels(m.channels ?? undefined), eventId: m.eventId ?? null };
  }
}

/** The value a catalog schema checks: JSON text from the library's code is parsed for it (a request's payload is a value). */
const payloadValue = (payload: unknown, source: MessageSource): unknown =>
  source.from === "code" && typeof payload === "string" ? JSON.parse(payload) : payload;

/** A batch is an array of at most 1,000 messages (a 422 on `/messages` otherwise). */
export function checkBatchLength(messages: unknown): void {
  if (Array.isArray(messages) && messages.length <= MAX_BATCH_MESSAGES) return;
  const problem = `must be an array of at most ${MAX_BATCH_MESSAGES} messages`;
  throw new HeraldError("validation_failed", `messages: ${problem}`, [{ path: "/messages", message: problem }]);
}
