import { describe, expect, it } from "vitest";
import { shapeDiff } from "./shape.js";

describe("shapeDiff", () => {
  it("accepts the same shape with other values and extra keys", () => {
    expect(shapeDiff({ a: 1, b: { c: "x", d: [{ e: true }] } }, { a: 2, b: { c: "y", d: [{ e: false, f: 1 }, { e: true }] }, z: null })).toEqual([]);
  });

  it("reports missing keys and other JSON types at every level, by JSON pointer", () => {
    expect(shapeDiff({ a: 1, b: { c: "x" }, d: [{ e: 1 }] }, { a: "1", b: {}, d: [{ e: 1 }, { e: null }] })).toEqual([
      "/a: number expected, got string",
      "/b/c: missing",
      "/d/1/e: number expected, got null",
    ]);
    expect(shapeDiff({ a: [] }, { a: {} })).toEqual(["/a: array expected, got object"]);
    expect(shapeDiff({ a: {} }, { a: [] })).toEqual(["/a: object expected, got array"]);
    expect(shapeDiff({ a: "x" }, null)).toEqual(["/: object expected, got null"]);
  });

  it("compares array elements with the example's first element; an empty example array accepts any array", () => {
    expect(shapeDiff([{ a: 1 }, "ignored"], [{ a: 2 }, { a: 3 }])).toEqual([]);
    expect(shapeDiff([], [1, "x"])).toEqual([]);
  });
});
