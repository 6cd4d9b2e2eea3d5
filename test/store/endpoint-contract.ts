import { expect, it } from "vitest";
import { newId } from "../../src/core/ids.js";
import { generateSecret } from "../../src/signing/secret.js";
import { T0, type TestStore, app, endpoint, publishOne } from "./fixtures.js";

/**
 * The other writers a store shares its database with (a worker's completion,
 * another process), played by hand on connections of their own.
 */
export interface RawAccess {
  /** Runs one statement (`?` placeholders), committed at once. */
  exec(sql: string, ...params: unknown[]): Promise<void>;
  /**
   * PostgreSQL only: runs the statement in a transaction of its own and keeps
   * it open, with its row locks. `blocking()` resolves once another session
   * waits on those locks (rejects after `timeoutMs`); `commit()` ends it.
   */
  hold?(sql: string, ...params: unknown[]): Promise<HeldWrite>;
}

export interface HeldWrite {
  blocking(timeoutMs?: number): Promise<void>;
  commit(): Promise<void>;
}

export type EndpointTestStore = TestStore & { raw: RawAccess };

/** A worker's automatic disable, committed by another connection (what `complete` writes). */
const DISABLE_FAILING = "UPDATE endpoints SET status = 'disabled', disabled_reason = 'failing', updated_at = ? WHERE id = ?";

/**
 * Endpoint state changes under concurrency: every change is one conditional
 * statement, so a write never carries back what its caller read earlier.
 */
export function endpointContract(ctx: () => TestStore, { concurrentWriters }: { concurrentWriters: boolean }): void {
  const store = () => ctx().store;
  const raw = (): RawAccess => {
    const access = (ctx() as Partial<EndpointTestStore>).raw;
    if (!access) throw new Error("this backend's test store gives no raw access (see test/store/endpoint-contract.ts)");
    return access;
  };
  /** A test of a write that waits on another session's lock: only for backends with concurrent writers. */
  const itHolding = (name: string, fn: (hold: NonNullable<RawAccess["hold"]>) => Promise<void>) => {
    if (!concurrentWriters) return;
    it(name, async () => {
      const hold = raw().hold;
      if (!hold) throw new Error("a backend with concurrent writers must give raw().hold (see test/store/raw-access.ts)");
      await fn(hold);
    });
  };

  it("writes only the fields a patch names", async () => {
    const s = store();
    const a = await app(s);
    const other = await app(s, { id: newId("app", T0) });
    const ep = await endpoint(s, a, { description: "old", headers: { "x-a": "1" }, metadata: { k: "v" }, timeoutMs: 2000 });
    const patched = await s.updateEndpoint(a.id, ep.id, { description: "new", rateLimit: null, channels: ["eu"] }, T0 + 1);
    expect(patched).toEqual({ ...ep, description: "new", rateLimit: null, channels: ["eu"], updatedAt: T0 + 1 });
    expect(await s.getEndpoint(a.id, ep.id)).toEqual(patched);
    // An empty patch writes nothing, not even the time.
    expect(await s.updateEndpoint(a.id, ep.id, {}, T0 + 2)).toEqual(patched);
    expect(await s.updateEndpoint(other.id, ep.id, { description: "x" }, T0)).toBeNull();
    expect(await s.updateEndpoint(a.id, newId("ep"), { description: "x" }, T0)).toBeNull();
  });

  it("patches credentials alone, and keeps them and the secret through patches of other fields", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a, { authentication: { type: "bearer", token: "first-token-0123456789" } });
    const basic = { type: "basic" as const, username: "u", password: "second-password-0123" };
    expect(await s.updateEndpoint(a.id, ep.id, { authentication: basic }, T0 + 1)).toMatchObject({ authentication: basic, secret: ep.secret });
    expect(await s.updateEndpoint(a.id, ep.id, { description: "d" }, T0 + 2)).toMatchObject({ authentication: basic, secret: ep.secret, description: "d" });
    expect(await s.getEndpoint(a.id, ep.id)).toMatchObject({ authentication: basic, secret: ep.secret });
    expect(await s.updateEndpoint(a.id, ep.id, { authentication: null }, T0 + 3)).toMatchObject({ authentication: null, secret: ep.secret });
  });

  it("keeps a worker's automatic disable through a later patch of the description", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const stale = await s.getEndpoint(a.id, ep.id);
    expect(stale!.status).toBe("active");
    await raw().exec(DISABLE_FAILING, T0 + 1, ep.id);
    const patched = await s.updateEndpoint(a.id, ep.id, { description: "renamed" }, T0 + 2);
    expect(patched).toMatchObject({ description: "renamed", status: "disabled", disabledReason: "failing" });
    expect(await s.getEndpoint(a.id, ep.id)).toMatchObject({ status: "disabled", disabledReason: "failing", description: "renamed" });
  });

  it("keeps both of two concurrent patches of different fields", async () => {
    const s = store();
    const other = await ctx().reopen();
    const a = await app(s);
    const ep = await endpoint(s, a);
    await Promise.all([
      s.updateEndpoint(a.id, ep.id, { description: "from one" }, T0 + 1),
      other.updateEndpoint(a.id, ep.id, { url: "https://example.test/two" }, T0 + 1),
    ]);
    expect(await s.getEndpoint(a.id, ep.id)).toMatchObject({ description: "from one", url: "https://example.test/two" });

    // Interleaved by hand: a read, another process's patch, then a patch of another field.
    const stale = await s.getEndpoint(a.id, ep.id);
    await other.updateEndpoint(a.id, ep.id, { metadata: { team: "b" } }, T0 + 2);
    await s.updateEndpoint(a.id, ep.id, { events: ["order.*"] }, T0 + 3);
    expect(stale!.metadata).toEqual({});
    expect(await s.getEndpoint(a.id, ep.id)).toMatchObject({
      description: "from one",
      url: "https://example.test/two",
      metadata: { team: "b" },
      events: ["order.*"],
    });
  });

  itHolding("a patch that waits on a concurrent write does not write back what it saw before", async (hold) => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const held = await hold(
      "UPDATE endpoints SET status = 'disabled', disabled_reason = 'failing', url = 'https://example.test/held' WHERE id = ?",
      ep.id,
    );
    const patching = s.updateEndpoint(a.id, ep.id, { description: "while held" }, T0 + 1);
    await held.blocking();
    await held.commit();
    expect(await patching).toMatchObject({ description: "while held", status: "disabled", disabledReason: "failing", url: "https://example.test/held" });
    expect(await s.getEndpoint(a.id, ep.id)).toMatchObject({ description: "while held", status: "disabled", url: "https://example.test/held" });
  });

  it("enables and disables only from the other state, and says whether it did", async () => {
    const s = store();
    const a = await app(s);
    const other = await app(s, { id: newId("app", T0) });
    const ep = await endpoint(s, a);

    const off = await s.setEndpointEnabled(a.id, ep.id, false, T0 + 1);
    expect(off).toMatchObject({ changed: true, endpoint: { status: "disabled", disabledReason: "manual", updatedAt: T0 + 1 } });
    const again = await s.setEndpointEnabled(a.id, ep.id, false, T0 + 2);
    expect(again).toMatchObject({ changed: false, endpoint: { status: "disabled", disabledReason: "manual", updatedAt: T0 + 1 } });

    const on = await s.setEndpointEnabled(a.id, ep.id, true, T0 + 3);
    expect(on).toMatchObject({ changed: true, endpoint: { status: "active", disabledReason: null, updatedAt: T0 + 3 } });
    expect(await s.setEndpointEnabled(a.id, ep.id, true, T0 + 4)).toMatchObject({ changed: false, endpoint: { status: "active", updatedAt: T0 + 3 } });
    expect(await s.getEndpoint(a.id, ep.id)).toEqual(on!.endpoint);

    // Disabling what the failure rules disabled keeps their reason.
    await raw().exec(DISABLE_FAILING, T0 + 5, ep.id);
    expect(await s.setEndpointEnabled(a.id, ep.id, false, T0 + 6)).toMatchObject({ changed: false, endpoint: { disabledReason: "failing" } });
    expect(await s.setEndpointEnabled(a.id, ep.id, true, T0 + 7)).toMatchObject({ changed: true, endpoint: { status: "active", disabledReason: null } });

    expect(await s.setEndpointEnabled(other.id, ep.id, false, T0)).toBeNull();
    expect(await s.setEndpointEnabled(a.id, newId("ep"), true, T0)).toBeNull();
    expect(await s.getEndpoint(a.id, ep.id)).toMatchObject({ status: "active" });
  });

  it("counts one transition when two processes enable at once", async () => {
    const s = store();
    const other = await ctx().reopen();
    const a = await app(s);
    const ep = await endpoint(s, a, { status: "disabled", disabledReason: "failing" });
    const results = await Promise.all([s.setEndpointEnabled(a.id, ep.id, true, T0 + 1), other.setEndpointEnabled(a.id, ep.id, true, T0 + 1)]);
    expect(results.filter((r) => r!.changed)).toHaveLength(1);
    expect(results.map((r) => r!.endpoint.status)).toEqual(["active", "active"]);
  });

  it("resets the failure state of deliveries waiting for a retry when enabled, not of those held by a worker", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const waiting = (await publishOne(s, a)).message;
    const held = (await publishOne(s, a)).message;
    // Both mid-schedule (third attempt next), one held by a worker right now.
    await raw().exec("UPDATE deliveries SET attempts = 2, schedule_index = 2, cycle_started_at = ?, next_attempt_at = ? WHERE endpoint_id = ?", T0, T0 + 300_000, ep.id);
    await raw().exec("UPDATE deliveries SET lease_owner = 'w1' WHERE message_id = ?", held.id);
    await raw().exec(DISABLE_FAILING, T0 + 1, ep.id);

    await s.setEndpointEnabled(a.id, ep.id, true, T0 + 2);
    expect((await s.listDeliveries(waiting.id))[0]).toMatchObject({ status: "pending", attempts: 2, scheduleIndex: 0, cycleStartedAt: null, nextAttemptAt: T0 + 300_000 });
    expect((await s.listDeliveries(held.id))[0]).toMatchObject({ attempts: 2, scheduleIndex: 2, cycleStartedAt: T0 });
  });

  it("rotates from the secret stored at that instant, also when two rotations race", async () => {
    const s = store();
    const other = await ctx().reopen();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const [one, two] = [generateSecret(), generateSecret()];
    await Promise.all([
      s.rotateEndpointSecret(a.id, ep.id, one, T0 + 86_400_000, T0 + 1),
      other.rotateEndpointSecret(a.id, ep.id, two, T0 + 86_400_000, T0 + 1),
    ]);
    const after = await s.getEndpoint(a.id, ep.id);
    // One rotation after the other: the newest secret and, before it, the other one (never the first secret twice).
    expect([after!.secret, after!.previousSecret].sort()).toEqual([one, two].sort());
  });

  it("recovers only while the endpoint is active", async () => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const { message } = await publishOne(s, a);
    await raw().exec("UPDATE deliveries SET status = 'failed', next_attempt_at = NULL WHERE endpoint_id = ?", ep.id);

    await s.setEndpointEnabled(a.id, ep.id, false, T0 + 1);
    expect(await s.recover(ep.id, 0, T0 + 2)).toBeNull();
    expect((await s.listDeliveries(message.id))[0]!.status).toBe("failed");
    expect(await s.recover(newId("ep"), 0, T0 + 2)).toBeNull();

    await s.setEndpointEnabled(a.id, ep.id, true, T0 + 3);
    expect(await s.recover(ep.id, 0, T0 + 4)).toBe(1);
    expect(await s.recover(ep.id, 0, T0 + 4)).toBe(0); // active, nothing left to recover
    expect((await s.listDeliveries(message.id))[0]).toMatchObject({ status: "pending", nextAttemptAt: T0 + 4 });
  });

  itHolding("a recover that meets a concurrent disable re-queues nothing", async (hold) => {
    const s = store();
    const a = await app(s);
    const ep = await endpoint(s, a);
    const { message } = await publishOne(s, a);
    await raw().exec("UPDATE deliveries SET status = 'failed', next_attempt_at = NULL WHERE endpoint_id = ?", ep.id);
    const held = await hold("UPDATE endpoints SET status = 'disabled', disabled_reason = 'manual' WHERE id = ?", ep.id);
    const recovering = s.recover(ep.id, 0, T0 + 1);
    // The re-queue must wait for the disable (a check that does not wait would re-queue and return 1).
    await held.blocking().catch(() => {});
    await held.commit();
    expect(await recovering).toBeNull();
    expect((await s.listDeliveries(message.id))[0]!.status).toBe("failed");
  });
}
