import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { prettyDestination } from "../../src/log-pretty.js";
import { tempDir } from "../helpers/herald.js";
import { spawnHerald } from "../helpers/process.js";

function collector() {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(...s.split("\n").filter(Boolean)) };
}

/** `npm start` (herald serve --dev) logs one readable line per event; production logs JSON lines. */
describe("development logs", () => {
  it("turns a request's two JSON lines into one readable line, keeps the other fields, and hides nothing redaction hid", () => {
    const out = collector();
    const logger = createLogger("info", out as never, { pretty: true });
    const api = logger.child({ component: "api" });
    api.info({ reqId: "req-1", req: { method: "POST", url: "/api/v1/applications/petstore/messages" } }, "incoming request");
    api.info({ reqId: "req-1", res: { statusCode: 202 }, responseTime: 3.4 }, "request completed");
    logger.warn({ endpointId: "ep_01ABC", reason: "failing", secret: "whsec_topsecret" }, "endpoint disabled");
    logger.error({ err: Object.assign(new Error("boom"), { code: "E_X" }) }, "could not record attempts; retrying");
    expect(out.lines).toHaveLength(3);
    expect(out.lines[0]).toMatch(/^\d\d:\d\d:\d\d INFO {2}api +POST \/api\/v1\/applications\/petstore\/messages → 202 \(3 ms\)$/);
    expect(out.lines[1]).toMatch(/^\d\d:\d\d:\d\d WARN {2}herald +endpoint disabled endpointId=ep_01ABC reason=failing secret="\[redacted\]"$/);
    expect(out.lines[1]).not.toContain("topsecret");
    expect(out.lines[2]).toMatch(/ERROR herald +could not record attempts; retrying err="Error: boom \(E_X\)"$/);
  });

  it("passes through a line that is not JSON", () => {
    const out = collector();
    prettyDestination(out).write("plain text\n");
    expect(out.lines).toEqual(["plain text"]);
  });

  it("herald serve --dev prints readable lines; herald serve prints JSON lines", async () => {
    for (const [args, readable] of [[["serve", "--dev"], true], [["serve"], false]] as const) {
      const { dir, cleanup } = tempDir();
      const p = spawnHerald([...args], { HERALD_DATABASE_URL: `sqlite:${join(dir, "h.db")}`, HERALD_PORT: "0", HERALD_LOG_LEVEL: "info" });
      try {
        const [, url] = await p.waitFor(/listening on (http:\/\/\S+)/);
        await fetch(`${url}/healthz`);
        await p.waitFor(readable ? /GET \/healthz → 200/ : /"msg":"request completed"/);
        const logLines = p
          .output()
          .split("\n")
          .filter((l) => /^\{|^\d\d:\d\d:\d\d /.test(l));
        expect(logLines.length).toBeGreaterThan(0);
        for (const l of logLines) expect(l.startsWith("{")).toBe(!readable);
      } finally {
        p.child.kill("SIGKILL");
        await p.exited;
        cleanup();
      }
    }
  });
});
