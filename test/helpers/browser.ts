import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";

/**
 * Debian's Chromium driven by playwright-core (which downloads no browser).
 * Browser tests skip loudly when it is missing, unless CI or
 * HERALD_REQUIRE_BROWSER=1 is set: then they fail with a clear message.
 */
export const CHROMIUM = "/usr/bin/chromium";
export const BROWSER_AVAILABLE = existsSync(CHROMIUM);
const ci = process.env.CI;
export const BROWSER_REQUIRED = (ci !== undefined && ci !== "" && ci !== "false" && ci !== "0") || process.env.HERALD_REQUIRE_BROWSER === "1";
/** Whether a browser test should run (it fails in `requireBrowser` if the browser is missing). */
export const RUN_BROWSER_TESTS = BROWSER_AVAILABLE || BROWSER_REQUIRED;

/** Warns, once per test file, that `what` is skipped. */
export function warnIfSkipped(what: string): void {
  if (RUN_BROWSER_TESTS) return;
  const bar = "!".repeat(80);
  console.warn(
    ["", bar, `!! SKIPPING ${what}: ${CHROMIUM} not found.`, "!! Install it with `apt-get install -y chromium` (CI and HERALD_REQUIRE_BROWSER=1 make this a failure).", bar, ""].join("\n"),
  );
}

/** Launches headless Chromium with the flags this closed network needs; throws if it is required but missing. */
export function launchBrowser(): Promise<Browser> {
  if (!BROWSER_AVAILABLE) {
    throw new Error(`Chromium is required here (CI or HERALD_REQUIRE_BROWSER=1) but ${CHROMIUM} is missing: install it with \`apt-get install -y chromium\`.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * Records into `problems` what a page must never do: throw, log an error
 * (CSP violations are logged too; `ignoreConsole` lets expected ones through),
 * or request anything off 127.0.0.1.
 */
export function watchPage(page: Page, problems: string[], ignoreConsole?: RegExp): void {
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !ignoreConsole?.test(msg.text())) problems.push(`console: ${msg.text()}`);
  });
  page.on("request", (req) => {
    if (new URL(req.url()).hostname !== "127.0.0.1") problems.push(`request off 127.0.0.1: ${req.url()}`);
  });
}

/**
 * A caller of Herald's admin API at `base()` (read at each call: the tests
 * learn it in `beforeAll`) with the admin `key`: the JSON answer, or null for a 204.
 */
export function adminApi(key: string, base: () => string) {
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${base()}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return res.status === 204 ? null : res.json();
  };
}
