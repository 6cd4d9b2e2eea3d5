import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../src/core/json-limits.js";
import type { Herald } from "../../src/herald.js";
import { openTestHerald } from "../helpers/herald.js";

/**
 * The library's publish paths get the same checks as the API's bodies
 * (issue 8 §2.1–2.2): `Herald.publish` with a value or JSON text, and the
 * SQLite outbox's `tx.publish`. A refused payload stores nothing.
 */

let herald: Herald;
let close: () => Promise<void>;
let query: (sql: string) => Promise<Record<string, unknown>[]>;

beforeAll(async () => {
  ({ herald, close, query } = await openTestHerald());
  await herald.createApplication({ name: "Lib", uid: "lib" });
});
afterAll(() => close());

const count = async () => Number((await query("SELECT count(*) AS n FROM messages"))[0]!.n);

/** `{a: {a: … {}}}` with `levels` objects, built without recursion. */
function nestedValue(levels: number): object {
  let v: object = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

describe("Herald.publish", () => {
  it("refuses a value nested 5,000 deep with too_deep, before JSON.stringify overflows", async () => {
    const before = await count();
    const deepArray: unknown[] = [];
    let cur = deepArray;
    for (let i = 0; i < 5000; i++) {
      const next: unknown[] = [];
      cur.push(next);
      cur = next;
    }
    for (const payload of [nestedValue(5000), deepArray, nestedValue(MAX_JSON_DEPTH + 1)]) {
      await expect(herald.publish({ app: "lib", eventType: "x.deep", payload })).rejects.toMatchObject({ code: "too_deep", status: 422 });
    }
    // A value that contains itself is refused the same way, not with a TypeError.
    const loop: Record<string, unknown> = {};
    loop.self = loop;
    await expect(herald.publish({ app: "lib", eventType: "x.loop", payload: loop })).rejects.toMatchObject({ code: "too_deep" });
    expect(await count()).toBe(before);
    await expect(herald.publish({ app: "lib", eventType: "x.deep", payload: nestedValue(MAX_JSON_DEPTH) })).resolves.toMatchObject({ created: true });
  });

  it("refuses JSON text nested too deep", async () => {
    const before = await count();
    const text = `${"[".repeat(5000)}${"]".repeat(5000)}`;
    await expect(herald.publish({ app: "lib", eventType: "x.deep", payload: text })).rejects.toMatchObject({ code: "too_deep" });
    expect(await count()).toBe(before);
  });

  it("refuses values that would not come back as given: lone surrogates, non-finite numbers", async () => {
    const before = await count();
    const cases: [unknown, RegExp][] = [
      [{ name: "\ud800" }, /^\/payload\/name: contains a lone UTF-16 surrogate/],
      [{ list: ["ok", "x\udfff"] }, /^\/payload\/list\/1: /],
      [{ ["k\ud83d"]: 1 }, /key with a lone UTF-16 surrogate/],
      [{ n: Number.POSITIVE_INFINITY }, /^\/payload\/n: is Infinity/],
      [{ n: Number.NaN }, /^\/payload\/n: is NaN/],
      ['{"name":"\\ud800"}', /lone UTF-16 surrogate/],
      ['{"name":"\ud800"}', /lone UTF-16 surrogate/],
      ['{"n":1e400}', /beyond the range of a double/],
      ['{"n":1e-400}', /too small for a double/],
    ];
    for (const [payload, message] of cases) {
      const err = await herald.publish({ app: "lib", eventType: "x.bad", payload }).catch((e: unknown) => e);
      expect(err, JSON.stringify(payload)).toMatchObject({ code: "validation_failed", status: 422 });
      expect((err as Error).message).toMatch(message);
    }
    expect(await count()).toBe(before);
  });
});

describe("Herald.publish with the engine's own input (JSON text already serialized)", () => {
  it("checks the text the same way", async () => {
    const before = await count();
    const app = await herald.application("lib");
    for (const [payload, code] of [
      [`${"[".repeat(100)}${"]".repeat(100)}`, "too_deep"],
      ['{"name":"\\ud800"}', "validation_failed"],
      ['{"n":1e400}', "validation_failed"],
    ] as const) {
      const input = { appId: app.id, eventType: "x.engine", payload, channels: null, eventId: null };
      await expect(herald.publish(input), payload).rejects.toMatchObject({ code });
    }
    expect(await count()).toBe(before);
  });
});

describe("the SQLite outbox", () => {
  it("refuses a deep or unencodable payload inside the transaction, which rolls back", async () => {
    const before = await count();
    for (const [payload, code] of [
      [nestedValue(5000), "too_deep"],
      [{ name: "\udc00" }, "validation_failed"],
      ['{"n":-1e999}', "validation_failed"],
    ] as const) {
      expect(() =>
        herald.transaction((tx) => {
          tx.publish({ app: "lib", eventType: "x.ok", payload: { fine: true } });
          tx.publish({ app: "lib", eventType: "x.bad", payload });
        }),
      ).toThrow(expect.objectContaining({ code }));
    }
    expect(await count()).toBe(before);
  });
});
