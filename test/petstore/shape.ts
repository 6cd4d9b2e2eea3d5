import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** The JSON type of a value: "null", "boolean", "number", "string", "array" or "object". */
export function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/**
 * Where `actual` departs from the shape of `example`: every key of the example
 * must be present at every level with the same JSON type (extra keys are
 * allowed); each element of an array is compared with the example's first
 * element. Returns one line per difference, each with its JSON pointer; none
 * when the shapes agree.
 *
 * @example
 * shapeDiff({ a: { b: 1 } }, { a: { b: "1" }, c: 2 }) // ["/a/b: number expected, got string"]
 */
export function shapeDiff(example: unknown, actual: unknown, path = ""): string[] {
  const want = jsonType(example);
  const got = jsonType(actual);
  if (want !== got) return [`${path || "/"}: ${want} expected, got ${got}`];
  if (want === "array") {
    const [first] = example as unknown[];
    if (first === undefined) return [];
    return (actual as unknown[]).flatMap((item, i) => shapeDiff(first, item, `${path}/${i}`));
  }
  if (want === "object") {
    const a = actual as Record<string, unknown>;
    return Object.entries(example as Record<string, unknown>).flatMap(([key, value]) =>
      key in a ? shapeDiff(value, a[key], `${path}/${key}`) : [`${path}/${key}: missing`],
    );
  }
  return [];
}

/** The seeds' example payloads, verbatim (test/fixtures/seed-examples): event type → {seed, example}. */
export function seedExamples(): Map<string, { seed: string; example: Record<string, unknown> }> {
  const dir = join(import.meta.dirname, "../fixtures/seed-examples");
  const out = new Map<string, { seed: string; example: Record<string, unknown> }>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const [, seed, type] = /^(\d{3})-(.+)\.json$/.exec(file)!;
    out.set(type!, { seed: seed!, example: JSON.parse(readFileSync(join(dir, file), "utf8")) });
  }
  return out;
}
