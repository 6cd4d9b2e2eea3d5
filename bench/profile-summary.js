// Summarises V8 .cpuprofile files (from `node --cpu-prof`):
//   node bench/profile-summary.js /tmp/prof/*.cpuprofile [--top 40] [--from 0.3]
// Prints the functions with the most self time (name, file:line, ms, share), the same summed per file, and
// the project's own functions (dist/) by inclusive time (themselves and what they call), which is how the
// publish path's hot spots were found (docs/benchmarks.md). `--from 0.3` skips the first 30 % of the
// profile's time: start-up (module loading, schema compilation) and warm-up.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "40" }, from: { type: "string", default: "0" } },
});
const top = Number(values.top);
const from = Number(values.from);
const short = (url) => url.replace(/^file:\/\//, "").replace(/^.*node_modules\//, "~/").replace(process.cwd(), ".");

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // timeDeltas[i] is the time before samples[i]: that much is charged to the sampled node.
  const span = profile.timeDeltas.reduce((a, b) => a + b, 0);
  const self = new Map();
  let t = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (t < from * span) continue;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const key = ({ functionName, url, lineNumber }) => `${functionName || "(anonymous)"}  ${short(url)}:${lineNumber + 1}`;
  const fns = new Map();
  const files = new Map();
  const inclusive = new Map();
  const add = (map, k, us) => map.set(k, (map.get(k) ?? 0) + us);
  for (const [id, us] of self) {
    const frame = byId.get(id).callFrame;
    add(fns, key(frame), us);
    add(files, short(frame.url) || frame.functionName, us);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur).callFrame;
      if (!f.url.includes("/dist/") || f.url.includes("node_modules")) continue;
      const k = key(f);
      if (!seen.has(k)) add(inclusive, k, us);
      seen.add(k);
    }
  }
  const print = (title, map) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
    }
  };
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled${from > 0 ? ` (from ${Math.round(from * 100)} % of the profile on)` : ""}`);
  print("self time by function", fns);
  print("self time by file", files);
  print("Herald's functions by inclusive time (with what they call)", inclusive);
}
