import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactQuery } from "../../src/log.js";
import { ADMIN_KEY, openApi } from "../api/helpers.js";

/**
 * Request logs keep a query's parameter names and never their values (issue 8
 * §2.7): an admin key sent as `?api_key=` must not reach a log line.
 */

describe("query strings in request logs", () => {
  it("are logged with their values redacted", async () => {
    let logs = "";
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs += chunk.toString();
        done();
      },
    });
    const t = await openApi({}, {}, { logger: createLogger("info", sink) });
    try {
      const portalish = "hpt_eyJhcHAiOiJhcHBfMDEifQ.c2lnbmF0dXJl";
      await t.app.inject({ method: "GET", url: `/api/v1/applications?api_key=${ADMIN_KEY}&limit=5` });
      await t.app.inject({ method: "GET", url: `/api/v1/applications?${ADMIN_KEY}` });
      await t.app.inject({ method: "GET", url: `/nowhere?token=${portalish}&${portalish}=1` });
      await t.app.inject({ method: "GET", url: `/api/v1/applications?cursor=${encodeURIComponent(ADMIN_KEY)}`, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    } finally {
      await t.close();
    }
    expect(logs).toContain('"url":"/api/v1/applications?api_key=[redacted]&limit=[redacted]"');
    expect(logs).toContain('"url":"/api/v1/applications?[redacted]"');
    expect(logs).toContain('"url":"/nowhere?token=[redacted]&[redacted]=[redacted]"');
    expect(logs).not.toContain(ADMIN_KEY);
    expect(logs).not.toContain("hpt_");
  });

  it("keep paths and names, replace every value", () => {
    expect(redactQuery("/api/v1/applications")).toBe("/api/v1/applications");
    expect(redactQuery("/a?")).toBe("/a?");
    expect(redactQuery("/a?x=1&&y=&z")).toBe("/a?x=[redacted]&y=[redacted]&[redacted]");
    expect(redactQuery(`/a?${"n".repeat(33)}=1`)).toBe("/a?[redacted]=[redacted]");
    expect(redactQuery("/a?key%3D=1")).toBe("/a?[redacted]=[redacted]");
  });
});
