import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/config.js";
import { Retention, idFloor } from "../../src/store/retention.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import { idTime } from "../../src/core/ids.js";
import { tempDir } from "../helpers/herald.js";
import { T0, app, claim, endpoint, idAt, publishOne, succeeded } from "./fixtures.js";

describe("retention", () => {
  it("parses HERALD_RETENTION: off by default, at least an hour, never a bare number", () => {
    expect(resolveConfig({}).retentionMs).toBeNull();
    expect(resolveConfig({ HERALD_RETENTION: "off" }).retentionMs).toBeNull();
    expect(resolveConfig({ HERALD_RETENTION: "30d" }).retentionMs).toBe(30 * 86_400_000);
    expect(resolveConfig({ HERALD_RETENTION: "72h" }).retentionMs).toBe(72 * 3_600_000);
    for (const bad of ["30", "10m", "soon", "3600000"]) {
      expect(() => resolveConfig({ HERALD_RETENTION: bad }), bad).toThrow(/^HERALD_RETENTION: expected off or a duration of at least 1h/);
    }
  });

  it("bounds ids by time: every id created before a time sorts below its floor", () => {
    const floor = idFloor("msg", T0);
    expect(idTime(floor)).toBe(T0);
    expect(idAt("msg", T0 - 1) < floor).toBe(true);
    expect(idAt("msg", T0) > floor).toBe(true);
  });

  it("deletes everything older than the age in small batches until nothing is left", async () => {
    const { dir, cleanup } = tempDir();
    const store = openSqliteStore(join(dir, "herald.db"));
    try {
      await store.migrate();
      const a = await app(store);
      await endpoint(store, a);
      const day = 86_400_000;
      for (let i = 0; i < 7; i++) await publishOne(store, a, {}, T0 - 40 * day + i);
      const recent = (await publishOne(store, a, {}, T0)).message;
      const jobs = await claim(store, T0);
      await store.complete(jobs.map((j) => succeeded(j, T0)), T0);
      let batches = 0;
      const purge = store.purge.bind(store);
      store.purge = (before, limit) => {
        batches++;
        return purge(before, limit);
      };
      const retention = new Retention({ store, logger: pino({ level: "silent" }), maxAgeMs: 30 * day, batch: 2, pauseMs: 1 });
      expect(await retention.runOnce(T0)).toBe(14); // 7 messages (with their deliveries) and their 7 attempts
      expect(batches).toBe(5); // 2 + 2 + 2 + 1 messages, then an empty batch
      expect((await store.listMessages(a.id, {}, { limit: 50 })).data.map((m) => m.id)).toEqual([recent.id]);
      await retention.stop();
    } finally {
      await store.close();
      cleanup();
    }
  });
});
