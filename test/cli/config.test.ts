import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/herald.js";
import { spawnHerald } from "../helpers/process.js";

describe("herald CLI configuration", () => {
  const cases: [Record<string, string>, string[], RegExp][] = [
    [{ HERALD_RETRY_SCHEDULE: "soon" }, ["serve"], /^herald: HERALD_RETRY_SCHEDULE: expected comma-separated durations/],
    [{ HERALD_PORT: "eighty" }, ["serve"], /^herald: HERALD_PORT: expected an integer from 0 to 65535/],
    [{ HERALD_REQUEST_TIMEOUT: "90s" }, ["worker"], /^herald: HERALD_REQUEST_TIMEOUT: expected a duration/],
    [{ HERALD_ROLE: "boss" }, ["serve"], /^herald: HERALD_ROLE: expected all, api or worker/],
    [{ HERALD_DATABASE_URL: "mysql://x" }, ["migrate"], /^herald: HERALD_DATABASE_URL: unsupported scheme/],
    [{ HERALD_API_KEY: "short" }, ["serve"], /^herald: HERALD_API_KEY: expected at least 16 characters/],
    [{}, ["serve", "--max-payload-bytes", "-5"], /^herald: HERALD_MAX_PAYLOAD_BYTES: expected an integer/],
  ];
  for (const [env, args, message] of cases) {
    it(`rejects ${JSON.stringify(env)} ${args.join(" ")} with one line and a non-zero exit`, async () => {
      const { dir, cleanup } = tempDir();
      try {
        const p = spawnHerald(args, { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0", ...env });
        const code = await p.exited;
        expect(code).toBe(2);
        const lines = p.output().trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(message);
      } finally {
        cleanup();
      }
    });
  }

  it("migrates a new database and exits 0", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const db = join(dir, "sub", "m.db");
      const p = spawnHerald(["migrate", "--database-url", `sqlite:${db}`], {});
      expect(await p.exited).toBe(0);
      expect(p.output()).toMatch(/migrations applied/);
      expect(existsSync(db)).toBe(true);
    } finally {
      cleanup();
    }
  });

  it("stops gracefully on SIGTERM", async () => {
    const { dir, cleanup } = tempDir();
    try {
      const p = spawnHerald(["serve"], { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0" });
      await p.waitFor(/Admin API key \(shown once[^:]*\): hk_/);
      p.child.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      // The key is printed once: a second start does not print it again.
      const again = spawnHerald(["serve"], { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0" });
      await again.waitFor(/listening on/);
      again.child.kill("SIGTERM");
      expect(await again.exited).toBe(0);
      expect(again.output()).not.toMatch(/hk_/);
    } finally {
      cleanup();
    }
  });
});
