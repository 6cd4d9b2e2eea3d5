import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = fileURLToPath(new URL("../src", import.meta.url));

/** Every `.ts` file under src/ and the modules it imports (relative imports only). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        const targets = [...text.matchAll(/from "(\.{1,2}\/[^"]+)"/g)].map((m) => resolve(dirname(path), m[1]!.replace(/\.js$/, ".ts")));
        graph.set(path, targets);
      }
    }
  };
  walk(SRC);
  return graph;
}

/** A module's layer: its top folder under src/ (`api`, `store` …), or the file itself at the top (`herald.ts`). */
const layerOf = (file: string): string => relative(SRC, file).split("/")[0]!;

/**
 * The layout reads as the architecture (docs/architecture.md): dependencies
 * between the folders of src/ point one way. A cycle between two folders
 * means one of them holds something that belongs elsewhere.
 */
describe("layers", () => {
  const graph = importGraph();
  const edges = new Map<string, Set<string>>();
  for (const [from, targets] of graph) {
    for (const to of targets) {
      const a = layerOf(from);
      const b = layerOf(to);
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
  }

  it("has no cycle between two folders of src/", () => {
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      for (const next of edges.get(node) ?? []) {
        if (next === path[0]) cycles.push([...path, next].join(" → "));
        else if (!path.includes(next) && next > path[0]!) visit(next, [...path, next]);
      }
    };
    for (const start of [...edges.keys()].sort()) visit(start, [start]);
    expect(cycles).toEqual([]);
  });

  it("keeps each store's folder to itself: what both use is in src/store/sql/", () => {
    const crossing: string[] = [];
    for (const [from, targets] of graph) {
      const dialect = /^store\/(sqlite|postgres)\//.exec(relative(SRC, from))?.[1];
      if (!dialect) continue;
      const other = dialect === "sqlite" ? "postgres" : "sqlite";
      for (const to of targets) if (relative(SRC, to).startsWith(`store/${other}/`)) crossing.push(`${relative(SRC, from)} → ${relative(SRC, to)}`);
    }
    expect(crossing).toEqual([]);
  });

  it("keeps core free of every other layer, and the store free of the HTTP API", () => {
    expect([...(edges.get("core") ?? [])]).toEqual([]);
    for (const layer of ["store", "service", "publish", "delivery", "catalog", "ops", "security"]) {
      expect([...(edges.get(layer) ?? [])], layer).not.toContain("api");
    }
  });
});
