import { expect } from "vitest";

// Prometheus text format 0.0.4: `# HELP name text`, `# TYPE name type`, `name{l="v",…} value`, blank lines between families.
const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
// prom-client writes NaN as `Nan` (its event-loop lag before the first sample); Prometheus parses any case.
const SAMPLE = new RegExp(`^(${NAME})(\\{${LABEL}(?:,${LABEL})*\\})? ([Nn]a[Nn]|[+-]Inf|-?\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);

/** The family a sample belongs to: a histogram's `_bucket`, `_sum` and `_count` belong to its name. */
function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  const base = name.replace(/_(bucket|sum|count)$/, "");
  return types.get(base) === "histogram" || types.get(base) === "summary" ? base : undefined;
}

/**
 * Parses exposition text strictly (every sample typed before it, no duplicate
 * series, no malformed line); returns every sample as `name{labels}` → value.
 */
export function parsePrometheus(text: string): Map<string, number> {
  expect(text.endsWith("\n")).toBe(true);
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.slice(0, -1).split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      const type = TYPE.exec(line);
      if (type) types.set(type[1]!, type[2]!);
      else expect(line, "a comment line is # HELP or # TYPE").toMatch(HELP);
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, `not a sample line: ${JSON.stringify(line)}`).not.toBeNull();
    expect(familyOf(m![1]!, types), `${m![1]} has no # TYPE before it`).toBeDefined();
    const key = `${m![1]}${m![2] ?? ""}`;
    expect(samples.has(key), `duplicate sample ${key}`).toBe(false);
    samples.set(key, Number(m![3]));
  }
  return samples;
}

/** The sum of every sample of `name` whose labels include all of `labels` (any order). */
export function sumOf(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of samples) {
    const brace = key.indexOf("{");
    if ((brace === -1 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

