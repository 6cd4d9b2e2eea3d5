import { Command } from "commander";
import { VERSION } from "../version.js";
import { registerMigrate } from "./migrate.js";
import { fail } from "./process.js";
import { registerServe } from "./serve.js";

const program = new Command()
  .name("herald")
  .description("Self-hosted webhook delivery: signed, retried, logged.")
  .version(VERSION)
  .showHelpAfterError();

registerServe(program);
registerMigrate(program);

program.parseAsync(process.argv).catch(fail);
