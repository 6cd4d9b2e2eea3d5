import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/herald.js";
import { spawnHerald } from "../helpers/process.js";

/** The guard and the key through the real `herald` binary (npm test builds dist/ first). */

const KEY = "cli-security-admin-key-0123456789";

describe("herald serve: security configuration", () => {
  it.each([
    [{ HERALD_ENCRYPTION_KEY: "hunter2" }, /^herald: HERALD_ENCRYPTION_KEY: key 1 is not valid; expected one or more comma-separated 32-byte keys/],
    [{ HERALD_ALLOWED_NETWORKS: "10.0.0.0/40" }, /^herald: HERALD_ALLOWED_NETWORKS: expected comma-separated CIDRs such as 127\.0\.0\.0\/8,::1\/128, got "10\.0\.0\.0\/40"$/],
  ])("refuses %j with one line and exit code 2", async (env, message) => {
    const { dir, cleanup } = tempDir();
    try {
      const p = spawnHerald(["serve"], { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0", ...env });
      expect(await p.exited).toBe(2);
      const lines = p.output().trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
    } finally {
      cleanup();
    }
  });

  it.each([
    [[] as string[], 422],
    [["--dev"], 201],
  ])("serve %j: a loopback endpoint URL answers %i", async (flags, status) => {
    const { dir, cleanup } = tempDir();
    const p = spawnHerald(["serve", ...flags], { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0", HERALD_API_KEY: KEY });
    try {
      const [, base] = await p.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const headers = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
      const app = (await (await fetch(`${base}/api/v1/applications`, { method: "POST", headers, body: JSON.stringify({ name: "cli" }) })).json()) as { id: string };
      const res = await fetch(`${base}/api/v1/applications/${app.id}/endpoints`, { method: "POST", headers, body: JSON.stringify({ url: "http://127.0.0.1:9/hook" }) });
      expect(res.status).toBe(status);
      if (status === 422) expect(((await res.json()) as { detail: string }).detail).toMatch(/^\/url: 127\.0\.0\.1 is a loopback address/);
    } finally {
      p.child.kill("SIGTERM");
      await p.exited;
      cleanup();
    }
  });
});
