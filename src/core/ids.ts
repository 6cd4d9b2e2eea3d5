import { randomFillSync } from "node:crypto";

/**
 * Prefixed, time-sortable ids: `<prefix>_` + 26 Crockford base32 characters
 * (48 bits of milliseconds, then 80 bits that are random at the start of each
 * millisecond and incremented within it). Sorting ids as strings sorts them by
 * creation time, so primary-key inserts append to the index instead of
 * scattering (design notes: 2.9x faster on SQLite).
 */
export type IdPrefix = "app" | "ep" | "msg" | "atmpt" | "evt" | "dlv" | "key" | "opev";
export type Id<P extends IdPrefix> = `${P}_${string}`;

export type ApplicationId = Id<"app">;
export type EndpointId = Id<"ep">;
export type MessageId = Id<"msg">;
export type AttemptId = Id<"atmpt">;
export type EventTypeId = Id<"evt">;
export type DeliveryId = Id<"dlv">;
export type AdminKeyId = Id<"key">;
export type OperationalEventId = Id<"opev">;

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const BODY_LENGTH = 26;

let lastMs = -1;
const lastRandom = new Uint8Array(10);

/** Random bytes drawn 4 KiB at a time: one `randomFillSync` per ~400 ids instead of one each. */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

function freshRandom(): void {
  if (poolAt + lastRandom.length > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  lastRandom.set(pool.subarray(poolAt, poolAt + lastRandom.length));
  // Used once: never handed out again.
  poolAt += lastRandom.length;
}

function incrementRandom(): void {
  for (let i = lastRandom.length - 1; i >= 0; i--) {
    const v = lastRandom[i]!;
    if (v < 255) {
      lastRandom[i] = v + 1;
      return;
    }
    lastRandom[i] = 0;
  }
}

/** The time part of the last id: ids made within one millisecond share it. */
let timeMs = -1;
let timeText = "";

function encode(ms: number, rand: Uint8Array): string {
  if (ms !== timeMs) {
    let t = ms;
    timeText = "";
    for (let i = 0; i < 10; i++) {
      timeText = ALPHABET[t % 32]! + timeText;
      t = Math.floor(t / 32);
    }
    timeMs = ms;
  }
  let out = timeText;
  // 80 random bits -> 16 base32 characters, 5 bits at a time.
  let bits = 0;
  let value = 0;
  for (const byte of rand) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(value >> bits) & 31];
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

/** A new id of the given kind, e.g. `newId("msg")` → `msg_01JD…`. Monotonic within a process. */
export function newId<P extends IdPrefix>(prefix: P, now = Date.now()): Id<P> {
  if (now <= lastMs) {
    incrementRandom();
  } else {
    lastMs = now;
    freshRandom();
    lastRandom[0] = lastRandom[0]! & 0x7f; // leave headroom for increments
  }
  return `${prefix}_${encode(lastMs, lastRandom)}` as Id<P>;
}

const ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Whether `value` looks like an id of the given kind (prefix and body shape). */
export function isId<P extends IdPrefix>(prefix: P, value: string): value is Id<P> {
  return value.startsWith(`${prefix}_`) && ID_PATTERN.test(value.slice(prefix.length + 1));
}

/** The creation time (ms) encoded in an id. */
export function idTime(id: string): number {
  const body = id.slice(id.indexOf("_") + 1, id.indexOf("_") + 11);
  let ms = 0;
  for (const ch of body) ms = ms * 32 + ALPHABET.indexOf(ch);
  return ms;
}

export { BODY_LENGTH as ID_BODY_LENGTH };
