import type { Command } from "commander";
import { resolveConfig } from "../config/config.js";
import { openStore } from "../store/open.js";
import { fail } from "./process.js";
import { addSettingFlags, settingsFrom } from "./settings.js";

/** `herald migrate`: applies pending migrations and exits. */
export function registerMigrate(program: Command): void {
  addSettingFlags(program.command("migrate").description("apply pending database migrations and exit")).action(
    async (opts: Record<string, unknown>) => {
      try {
        const config = resolveConfig(settingsFrom(process.env, opts));
        const store = await openStore(config.store);
        await store.migrate();
        await store.close();
        console.log("migrations applied");
      } catch (err) {
        fail(err);
      }
    },
  );
}
