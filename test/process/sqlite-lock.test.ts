import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HeraldError } from "../../src/core/errors.js";
import { Herald } from "../../src/herald.js";
import { TEST_STORE } from "../helpers/postgres.js";
import { silentLogger, tempDir } from "../helpers/herald.js";
import { type Spawned, spawnHerald } from "../helpers/process.js";

/**
 * One delivering process per SQLite file, enforced (docs/guarantees.md): a
 * delivering process takes back every lease it finds at start, so a second
 * one would take the first one's work and send it twice. It is refused with
 * one clear line instead; API-only processes are not.
 */
describe.skipIf(TEST_STORE === "postgres")("one delivering process per SQLite file", () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function fileDb() {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    return { dir, url: `sqlite:${join(dir, "herald.db")}` };
  }

  async function open(url: string, role = "all"): Promise<Herald> {
    const herald = await Herald.open({ settings: { HERALD_DATABASE_URL: url, HERALD_ROLE: role }, logger: silentLogger() });
    cleanups.push(() => herald.stop());
    return herald;
  }

  it("attaches one worker when start() is called concurrently", async () => {
    const { url } = fileDb();
    const herald = await open(url);
    await Promise.all([herald.start(), herald.start(), herald.start()]);
    expect(herald.dispatcher!.running).toBe(true);
  });

  it("refuses a second delivering Herald on the same file until the first stops", async () => {
    const { url } = fileDb();
    const first = await open(url);
    await first.start();
    const second = await open(url);
    const refused = await second.start().then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(HeraldError);
    expect((refused as HeraldError).code).toBe("conflict");
    expect((refused as Error).message).toMatch(/another Herald process is already delivering from .*herald\.db \(pid \d+ on .+\)/);
    expect(second.dispatcher!.running).toBe(false);
    // An API-only process on the same file is fine.
    const api = await open(url, "api");
    await api.start();
    await first.stop();
    await second.start(); // the lock is free again
    expect(second.dispatcher!.running).toBe(true);
  });

  it("refuses a second `herald worker` with one line, and lets the next one in once the first is killed", async () => {
    const { dir, url } = fileDb();
    const env = { HERALD_DATABASE_URL: url };
    const spawned: Spawned[] = [];
    cleanups.push(() => {
      for (const p of spawned) p.child.kill("SIGKILL");
    });
    const first = spawnHerald(["worker"], env, dir);
    spawned.push(first);
    await first.waitFor(/delivering from/);
    const second = spawnHerald(["worker"], env, dir);
    spawned.push(second);
    expect(await second.exited).toBe(1);
    const lines = second.output().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^herald: another Herald process is already delivering from /);
    // kill -9 drops the lock with the process: no stale lock to wait out.
    first.child.kill("SIGKILL");
    await first.exited;
    const third = spawnHerald(["worker"], env, dir);
    spawned.push(third);
    await third.waitFor(/delivering from/);
  });
});
