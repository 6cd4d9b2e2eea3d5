import { Command } from "commander";
import { VERSION } from "../version.js";
import { registerListen } from "./listen.js";
import { registerMigrate } from "./migrate.js";
import { fail } from "./process.js";
import { registerSend } from "./send.js";
import { registerServe } from "./serve.js";

const program = new Command()
  .name("herald")
  .description("Self-hosted webhook delivery: signed, retried, logged.")
  .version(VERSION)
  .showHelpAfterError();

registerServe(program);
registerMigrate(program);
registerListen(program);
registerSend(program);

program.parseAsync(process.argv).catch(fail);
