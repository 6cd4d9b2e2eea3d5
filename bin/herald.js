#!/usr/bin/env node
import { existsSync } from "node:fs";

const main = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(main)) {
  process.stderr.write("herald: the build is missing (dist/); run `npm run build` (npm start and npm test build it too)\n");
  process.exit(1);
}
await import(main.href);
