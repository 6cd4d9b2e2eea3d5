// Summarises V8 .cpuprofile files (from `node --cpu-prof`) by self time:
//   node bench/profile-summary.js /tmp/prof/*.cpuprofile [--top 40]
// Prints the functions with the most self time (name, file:line, ms, share), then the same summed per file,
// which is how the publish path's hot spots were found (docs/benchmarks.md).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "40" } } });
const top = Number(values.top);
for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // timeDeltas[i] is the time before samples[i]: that much is charged to the sampled node.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fns = new Map();
  const files = new Map();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const short = url.replace(/^file:\/\//, "").replace(/^.*node_modules\//, "~/").replace(process.cwd(), ".");
    const key = `${functionName || "(anonymous)"}  ${short}:${lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    files.set(short || functionName, (files.get(short || functionName) ?? 0) + us);
  }
  const print = (title, map) => {
    console.log(`\n${title}`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
    }
  };
  console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
  print("self time by function", fns);
  print("self time by file", files);
}
