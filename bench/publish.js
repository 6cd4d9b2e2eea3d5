// The publish path (`npm run bench -- --publish`): HTTP publishes per second to an application with no
// endpoint, through `herald serve` (SQLite, its own process), against a bare Fastify route in its own
// process that parses the same JSON and answers 202 (bench/bare-fastify.js). Same undici Pool, same body,
// 64 requests in flight, each side warmed up first, then alternating rounds; what Herald adds on top of
// HTTP + JSON is the ratio.
// Profile Herald under this load with BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" and
// `node bench/profile-summary.js /tmp/prof/*.cpuprofile`.
import { spawn } from "node:child_process";
import { Pool } from "undici";
import { freePort, here, sleep, startHerald } from "./lib.js";

const IN_FLIGHT = 64;

const ROUNDS = 5;

/**
 * Both servers run side by side; after a warm-up each (one round), they are measured in ${ROUNDS} alternating
 * rounds of `roundSeconds` each, so that a change in what else runs on the machine hits both alike. Reported:
 * each side's best round and the median of the rounds' ratios.
 *
 * @param {object} o
 * @param {number} o.roundSeconds how long each side publishes per round
 * @param {object} o.body the publish body (`{ eventType, payload }`)
 * @param {string} o.apiKey the admin key herald serve is started with
 * @param {(port: number, name: string) => Record<string, string>} o.env herald serve's environment for a port
 * @param {string} [o.baselineBin] another build's bin/herald.js, measured in the same rounds (before/after)
 */
export async function measurePublishPath(o) {
  console.error(`publish path: ${IN_FLIGHT} in flight, herald serve (no endpoint) vs a bare Fastify route, ${ROUNDS} alternating rounds of ${o.roundSeconds} s…`);
  const body = JSON.stringify(o.body);
  const bare = await startBare();
  const herald = await startHeraldSide(o);
  const baseline = o.baselineBin ? await startHeraldSide(o, o.baselineBin) : null;
  try {
    const perRound = o.roundSeconds * 1000;
    for (const side of [bare, herald, baseline]) if (side) await rate(side, body, perRound);
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) {
      const b = await rate(bare, body, perRound);
      const h = await rate(herald, body, perRound);
      const base = baseline ? await rate(baseline, body, perRound) : null;
      rounds.push({ bare: b, herald: h, ratio: h / b, baseline: base, baselineRatio: base && base / b });
    }
    const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ratios = rounds.map((r) => r.ratio).sort((a, b) => a - b);
    return {
      bare: Math.max(...rounds.map((r) => r.bare)),
      herald: Math.max(...rounds.map((r) => r.herald)),
      ratio: median(rounds.map((r) => r.ratio)),
      ratios,
      baseline: baseline && Math.max(...rounds.map((r) => r.baseline)),
      baselineRatio: baseline && median(rounds.map((r) => r.baselineRatio)),
    };
  } finally {
    for (const side of [bare, herald, baseline]) await side?.close();
  }
}

async function startHeraldSide(o, bin) {
  const port = await freePort();
  const server = await startHerald(["serve"], o.env(port, bin ? "baseline" : "publish"), bin);
  const headers = { authorization: `Bearer ${o.apiKey}`, "content-type": "application/json" };
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: IN_FLIGHT });
  const res = await pool.request({ method: "POST", path: "/api/v1/applications", headers, body: JSON.stringify({ name: "publish", uid: "publish" }) });
  await res.body.dump();
  return {
    pool,
    headers,
    close: async () => {
      await pool.close();
      await server.stop();
    },
  };
}

async function startBare() {
  const port = await freePort();
  const child = spawn(process.execPath, [here("./bare-fastify.js")], { env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  while (!out.includes("listening")) {
    if (child.exitCode !== null) throw new Error("the bare Fastify route did not start");
    await sleep(20);
  }
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: IN_FLIGHT });
  return {
    pool,
    headers: { "content-type": "application/json" },
    close: async () => {
      await pool.close();
      await new Promise((r) => {
        child.on("exit", r);
        child.kill("SIGTERM");
      });
    },
  };
}

const PATH = "/api/v1/applications/publish/messages";

/** Requests per second answered while POSTing `body` for `ms`, `IN_FLIGHT` at a time. */
async function rate(side, body, ms) {
  let done = 0;
  const started = performance.now();
  const until = started + ms;
  const loop = async () => {
    while (performance.now() < until) {
      const res = await side.pool.request({ method: "POST", path: PATH, headers: side.headers, body });
      const text = await res.body.text();
      if (res.statusCode !== 202) throw new Error(`POST ${PATH} → ${res.statusCode} ${text}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  return done / ((performance.now() - started) / 1000);
}
