import { describe, expect, it, vi } from "vitest";
import { adminKeyResolver, ADMIN_KEY_SETTING, sha256Hex } from "../../src/api/auth.js";
import type { HeraldConfig } from "../../src/config/config.js";
import { isId, newId } from "../../src/core/ids.js";
import { GroupCommitPublisher } from "../../src/publish/publisher.js";
import type { PublishOptions, PublishRequest, PublishResult, Store } from "../../src/store/store.js";

// What the publish path's shortcuts must not change (docs/benchmarks.md, "The publish path").

describe("the admin key resolver's memory of verified tokens", () => {
  it("still refuses every other token, and forgets a token once the stored key changes", async () => {
    let stored = sha256Hex("hk_first");
    const getSetting = vi.fn(async (key: string) => (key === ADMIN_KEY_SETTING ? stored : null));
    const resolver = adminKeyResolver({ getSetting } as unknown as Store, {} as HeraldConfig);
    expect(await resolver.resolve("hk_first")).toEqual({ kind: "admin", keyId: "bootstrap" });
    expect(await resolver.resolve("hk_first")).toEqual({ kind: "admin", keyId: "bootstrap" });
    expect(await resolver.resolve("hk_firs")).toBeNull();
    expect(await resolver.resolve("hk_first ")).toBeNull();

    stored = sha256Hex("hk_second");
    vi.useFakeTimers({ now: Date.now() + 60_000, toFake: ["Date"] });
    try {
      expect(await resolver.resolve("hk_first")).toBeNull();
      expect(await resolver.resolve("hk_second")).toEqual({ kind: "admin", keyId: "bootstrap" });
    } finally {
      vi.useRealTimers();
    }
  });

  it("accepts the configured key and nothing else", async () => {
    const resolver = adminKeyResolver({} as Store, { apiKey: "configured-key-0123456789" } as HeraldConfig);
    expect(await resolver.resolve("configured-key-0123456789")).toEqual({ kind: "admin", keyId: "bootstrap" });
    expect(await resolver.resolve("configured-key-0123456789")).toEqual({ kind: "admin", keyId: "bootstrap" });
    expect(await resolver.resolve("configured-key-012345678")).toBeNull();
  });
});

describe("ids drawn from the random pool", () => {
  it("are unique, well formed and sorted, within a millisecond and across many", () => {
    const ids: string[] = [];
    const start = Date.now();
    // 1,000 milliseconds use 10 KB of randomness: the 4 KiB pool is refilled along the way.
    for (let ms = 0; ms < 1000; ms++) for (let i = 0; i < 3; i++) ids.push(newId("msg", start + ms));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => isId("msg", id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    // Within one millisecond the random part is incremented; the next millisecond draws fresh bytes.
    expect(ids[0]!.slice(0, 14)).toBe(ids[1]!.slice(0, 14));
    expect(ids[3]!.slice(14)).not.toBe(ids[2]!.slice(14));
  });
});

describe("the group commit's wake-up of the dispatcher", () => {
  /** A store whose publish leases `leased` jobs per batch and reports `queued` deliveries left for a claim. */
  const storeLeasing = (leased: number, queued: number) =>
    ({
      publish: async (batch: readonly PublishRequest[], _o: PublishOptions): Promise<PublishResult[]> =>
        batch.map((r, i) => ({
          message: r.message,
          created: true,
          jobs: i === 0 ? Array.from({ length: leased }, () => ({}) as never) : [],
          queued,
        })),
    }) as unknown as Store;
  const publishOnce = async (store: Store, lease: PublishOptions["lease"] | undefined, firstDelayMs = 0) => {
    const onCommitted = vi.fn();
    const publisher = new GroupCommitPublisher(store, {
      firstDelayMs,
      lease: lease && (() => ({ ...lease, epoch: 0 })),
      onJobs: () => {},
      onCommitted,
    });
    await publisher.publish({ appId: "app_x" as never, eventType: "e", payload: "{}", channels: null, eventId: null });
    await publisher.close();
    return onCommitted.mock.calls.length;
  };

  it("happens only when the commit left deliveries for a claim", async () => {
    const lease = { owner: "w", until: Date.now() + 60_000, max: 10 };
    // Everything pending is in the dispatcher's hands already, or the message went to no endpoint.
    expect(await publishOnce(storeLeasing(3, 0), lease)).toBe(0);
    expect(await publishOnce(storeLeasing(0, 0), undefined)).toBe(0);
    // Deliveries left for a claim: the lease was full, there was none, or the first attempt waits.
    expect(await publishOnce(storeLeasing(10, 2), lease)).toBe(1);
    expect(await publishOnce(storeLeasing(0, 3), undefined)).toBe(1);
    expect(await publishOnce(storeLeasing(0, 3), lease, 5_000)).toBe(1);
  });
});
