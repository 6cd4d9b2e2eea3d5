import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import { launchBrowser, RUN_BROWSER_TESTS, warnIfSkipped, watchPage } from "../helpers/browser.js";
import { createApp, openTestHerald } from "../helpers/herald.js";

/**
 * The dashboard over the key's rate limit: a read answered 429 waits for its
 * Retry-After and is tried once more (the page shows its data, no error); a
 * write answered 429 is not repeated (the error is shown). The 429s are
 * injected with playwright's request routing, so the test does not race a
 * real token bucket.
 */

const KEY = "retry-test-admin-key-0123456789";
warnIfSkipped("the dashboard rate-limit retry test");

const TOO_MANY = {
  status: 429,
  headers: { "content-type": "application/problem+json", "retry-after": "1" },
  body: JSON.stringify({ type: "about:blank", title: "Too Many Requests", status: 429, code: "rate_limited", detail: "slow down" }),
};

describe.skipIf(!RUN_BROWSER_TESTS)("dashboard reads over the rate limit", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let base: string;
  const problems: string[] = [];

  beforeAll(async () => {
    ({ herald, close } = await openTestHerald({ HERALD_API_KEY: KEY }));
    base = (await herald.listen()).url;
    await createApp(herald, "Rate limited");
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The injected 429s are logged by the browser as failed loads: expected here.
    watchPage(page, problems, /status of 429/);
  });
  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it("waits for Retry-After and reads again, once", async () => {
    const hits: number[] = [];
    await page.route(/\/api\/v1\/applications\?limit=50$/, async (route) => {
      hits.push(Date.now());
      if (hits.length === 1) await route.fulfill(TOO_MANY);
      else await route.continue();
    });
    await page.goto(`${base}/`);
    await page.fill("#key", KEY);
    await page.click("#signin button[type=submit]");
    await page.locator("tr.application").first().waitFor();
    expect(hits).toHaveLength(2);
    expect(hits[1]! - hits[0]!).toBeGreaterThanOrEqual(900);
    expect(await page.locator(".notice.bad").count()).toBe(0);
    await page.unroute(/\/api\/v1\/applications\?limit=50$/);
  });

  it("does not repeat a write", async () => {
    let posts = 0;
    await page.route(/\/api\/v1\/applications$/, async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      posts++;
      await route.fulfill(TOO_MANY);
    });
    await page.click("#new-app-toggle");
    await page.fill("#app-name", "Never");
    await page.click("#app-create");
    await expect.poll(() => page.textContent("#new-app .notices")).toContain("slow down");
    expect(posts).toBe(1);
  });

  it("ran without script errors", () => {
    expect(problems).toEqual([]);
  });
}, 60_000);
