// The publish path (`npm run bench -- --publish`): HTTP publishes per second to an application with no
// endpoint, through `herald serve` (SQLite, its own process), against a bare Fastify route in its own
// process that parses the same JSON and answers 202 (bench/bare-fastify.js). Same undici Pool, same body,
// 64 requests in flight, each side warmed up first; what Herald adds on top of HTTP + JSON is the ratio.
// Profile Herald under this load with BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" and
// `node bench/profile-summary.js /tmp/prof/*.cpuprofile`.
import { spawn } from "node:child_process";
import { Pool } from "undici";
import { freePort, here, pooled, sleep, startHerald } from "./lib.js";

const IN_FLIGHT = 64;

/**
 * @param {object} o
 * @param {number} o.publishes measured publishes per side (each side also gets a warm-up of a tenth of it)
 * @param {object} o.body the publish body (`{ eventType, payload }`)
 * @param {string} o.apiKey the admin key herald serve is started with
 * @param {(port: number) => Record<string, string>} o.env herald serve's environment for a port
 */
export async function measurePublishPath(o) {
  console.error(`publish path: ${o.publishes} publishes, ${IN_FLIGHT} in flight, herald serve (no endpoint) vs a bare Fastify route…`);
  const bare = await measureBare(o);
  const herald = await measureHerald(o);
  return { herald, bare, ratio: herald / bare };
}

async function measureHerald(o) {
  const port = await freePort();
  const server = await startHerald(["serve"], o.env(port));
  const headers = { authorization: `Bearer ${o.apiKey}`, "content-type": "application/json" };
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: IN_FLIGHT });
  try {
    const res = await pool.request({ method: "POST", path: "/api/v1/applications", headers, body: JSON.stringify({ name: "publish", uid: "publish" }) });
    await res.body.dump();
    return await rate(pool, "/api/v1/applications/publish/messages", headers, JSON.stringify(o.body), o.publishes);
  } finally {
    await pool.close();
    await server.stop();
  }
}

async function measureBare(o) {
  const port = await freePort();
  const child = spawn(process.execPath, [here("./bare-fastify.js")], { env: { ...process.env, PORT: String(port) }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  while (!out.includes("listening")) {
    if (child.exitCode !== null) throw new Error("the bare Fastify route did not start");
    await sleep(20);
  }
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: IN_FLIGHT });
  try {
    return await rate(pool, "/api/v1/applications/publish/messages", { "content-type": "application/json" }, JSON.stringify(o.body), o.publishes);
  } finally {
    await pool.close();
    await new Promise((r) => {
      child.on("exit", r);
      child.kill("SIGTERM");
    });
  }
}

/** Requests per second for `n` POSTs of `body`, `IN_FLIGHT` at a time, after a warm-up of n/10. */
async function rate(pool, path, headers, body, n) {
  const one = async () => {
    const res = await pool.request({ method: "POST", path, headers, body });
    const text = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`POST ${path} → ${res.statusCode} ${text}`);
  };
  await pooled(Array.from({ length: Math.max(200, Math.ceil(n / 10)) }), IN_FLIGHT, one);
  const started = performance.now();
  await pooled(Array.from({ length: n }), IN_FLIGHT, one);
  return n / ((performance.now() - started) / 1000);
}
