import type { Command } from "commander";
import { Herald } from "../herald.js";
import { startTracing } from "../observability/otel-sdk.js";
import { addSettingFlags, settingsFrom } from "./settings.js";
import { fail, onShutdownSignal } from "./process.js";

/** `herald serve`: API, dashboard and delivery workers in one process. */
export function registerServe(program: Command): void {
  addSettingFlags(
    program
      .command("serve")
      .description("run the API, the dashboard and the delivery workers")
      .option("--dev", "development mode: also allow loopback targets (127.0.0.0/8, ::1)")
      .option("--petstore", "also serve the seeds' Pet Store API at /store/v1 (a reference producer)"),
  ).action(async (opts: Record<string, unknown>) => {
    const settings = settingsFrom(process.env, opts);
    // The same as HERALD_DEV=1: the configuration adds loopback to the allowed networks.
    if (opts.dev) settings.HERALD_DEV = "1";
    await runServer(settings, opts.petstore === true);
  });

  addSettingFlags(program.command("worker").description("run delivery workers only (no HTTP API)")).action(
    async (opts: Record<string, unknown>) => {
      await runServer({ ...settingsFrom(process.env, opts), HERALD_ROLE: "worker" });
    },
  );
}

async function runServer(settings: Record<string, string | undefined>, petstore = false): Promise<void> {
  // HERALD_DELIVERY_THREAD=on applies here through the settings (role `all`, a database file).
  const herald = await Herald.open({ settings }).catch(fail);
  const { config } = herald;
  // Off unless HERALD_OTEL or OTEL_EXPORTER_OTLP_ENDPOINT is set; the SDK is loaded only then.
  // Herald's tracer is a proxy of the global provider, so registering it now is in time.
  const stopTracing = await startTracing({ ...process.env, ...settings }, herald.logger).catch(fail);
  onShutdownSignal(async () => {
    herald.logger.info("stopping: finishing in-flight attempts");
    await herald.stop();
    await stopTracing?.();
  });
  if (config.role !== "api") await herald.start();
  if (config.role === "worker") {
    console.log(`Herald worker delivering from ${describeStore(config.store)}`);
    return;
  }
  const { ensureAdminKey } = await import("../api/auth.js");
  const { generatedKey } = await ensureAdminKey(herald.store, config);
  const mount = petstore
    ? async (server: import("fastify").FastifyInstance) => (await import("../petstore/index.js")).mountPetstore(server, herald)
    : undefined;
  const { url } = await herald.listen(mount ? { mount } : {}).catch(fail);
  console.log(`Herald ${config.role === "api" ? "API" : "server"} listening on ${url} (${describeStore(config.store)})`);
  if (petstore) console.log(`Pet Store API at ${url}/store/v1 (its events go to the endpoints of application "petstore")`);
  if (config.dev) {
    console.log("Development mode: loopback targets (127.0.0.0/8, ::1) are allowed, so `herald listen` on this machine can receive.");
  }
  if (generatedKey) {
    console.log(`Admin API key (shown once, stored hashed; keep it): ${generatedKey}`);
  }
}

function describeStore(store: Herald["config"]["store"]): string {
  return store.kind === "sqlite" ? `SQLite ${store.path}` : "PostgreSQL";
}
