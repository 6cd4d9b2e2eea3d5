import { describe, expect, it } from "vitest";
import { createDeduplicator, type IdempotencyStore, MemoryIdempotencyStore } from "../../src/receiver/index.js";

function clock(start = 1_000_000) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe("MemoryIdempotencyStore", () => {
  it("claims an id once until its TTL runs out", () => {
    const c = clock();
    const store = new MemoryIdempotencyStore({ now: c.now });
    expect(store.claim("msg_1", 1000)).toBe(true);
    expect(store.claim("msg_1", 1000)).toBe(false);
    expect(store.claim("msg_2", 1000)).toBe(true);
    c.advance(999);
    expect(store.claim("msg_1", 1000)).toBe(false);
    c.advance(1);
    expect(store.claim("msg_1", 1000)).toBe(true);
  });

  it("release lets an id be claimed again", () => {
    const store = new MemoryIdempotencyStore();
    expect(store.claim("msg_1", 60_000)).toBe(true);
    store.release("msg_1");
    expect(store.claim("msg_1", 60_000)).toBe(true);
  });

  it("stays within maxEntries, dropping expired entries first, then the oldest", () => {
    const c = clock();
    const store = new MemoryIdempotencyStore({ maxEntries: 3, now: c.now });
    store.claim("a", 100);
    store.claim("b", 10_000);
    store.claim("c", 10_000);
    c.advance(200); // "a" has expired
    expect(store.claim("d", 10_000)).toBe(true);
    expect(store.size).toBe(3);
    expect(store.claim("b", 10_000)).toBe(false); // kept: only the expired one went
    expect(store.claim("e", 10_000)).toBe(true); // full: the oldest ("b") goes
    expect(store.size).toBe(3);
    expect(store.claim("b", 10_000)).toBe(true);
    for (let i = 0; i < 1000; i++) store.claim(`x${i}`, 10_000);
    expect(store.size).toBe(3);
  });

  it("rejects a bad maxEntries", () => {
    expect(() => new MemoryIdempotencyStore({ maxEntries: 0 })).toThrow(TypeError);
  });
});

describe("createDeduplicator", () => {
  it("runs the work once per id and reports duplicates", async () => {
    const dedup = createDeduplicator();
    let runs = 0;
    const work = async () => ++runs;
    expect(await dedup.once("msg_1", work)).toEqual({ duplicate: false, result: 1 });
    expect(await dedup.once("msg_1", work)).toEqual({ duplicate: true });
    expect(await dedup.once("msg_2", work)).toEqual({ duplicate: false, result: 2 });
    expect(runs).toBe(2);
  });

  it("treats an id being handled right now as a duplicate (concurrent redelivery)", async () => {
    const dedup = createDeduplicator();
    let release!: () => void;
    const first = dedup.once("msg_1", () => new Promise<void>((r) => (release = r)));
    expect(await dedup.once("msg_1", () => "second")).toEqual({ duplicate: true });
    release();
    expect(await first).toEqual({ duplicate: false, result: undefined });
  });

  it("releases the id when the work fails, so the retry is handled", async () => {
    const dedup = createDeduplicator();
    await expect(dedup.once("msg_1", () => Promise.reject(new Error("db down")))).rejects.toThrow("db down");
    expect(await dedup.once("msg_1", () => "ok")).toEqual({ duplicate: false, result: "ok" });
  });

  it("works with an async custom store and passes it the TTL", async () => {
    const calls: string[] = [];
    const kept = new Set<string>();
    const store: IdempotencyStore = {
      async claim(id, ttlMs) {
        calls.push(`claim ${id} ${ttlMs}`);
        if (kept.has(id)) return false;
        kept.add(id);
        return true;
      },
      async release(id) {
        calls.push(`release ${id}`);
        kept.delete(id);
      },
    };
    const dedup = createDeduplicator({ store, ttlMs: 5000 });
    await dedup.once("msg_1", () => 1);
    await dedup.once("msg_1", () => 2);
    await expect(dedup.once("msg_2", () => Promise.reject(new Error("x")))).rejects.toThrow();
    expect(calls).toEqual(["claim msg_1 5000", "claim msg_1 5000", "claim msg_2 5000", "release msg_2"]);
  });

  it("defaults to remembering ids for 24 h", async () => {
    let ttl = 0;
    const store = {
      claim: (_id: string, t: number) => {
        ttl = t;
        return true;
      },
      release: () => {},
    };
    const dedup = createDeduplicator({ store });
    await dedup.once("msg_1", () => 1);
    expect(ttl).toBe(24 * 60 * 60 * 1000);
  });

  it("refuses an empty id and a bad TTL", async () => {
    await expect(createDeduplicator().once("", () => 1)).rejects.toThrow(TypeError);
    expect(() => createDeduplicator({ ttlMs: 0 })).toThrow(TypeError);
  });
});
