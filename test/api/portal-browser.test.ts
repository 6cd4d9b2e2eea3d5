import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import { launchBrowser, RUN_BROWSER_TESTS, warnIfSkipped, watchPage } from "../helpers/browser.js";
import { eventually, openTestHerald } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * The consumer portal in a real browser (Debian's Chromium via playwright-core),
 * opened with a portal token's link, against a real Herald and receiver on
 * 127.0.0.1. Skips loudly without /usr/bin/chromium unless CI or
 * HERALD_REQUIRE_BROWSER=1 is set (then it fails), like the dashboard's test.
 */

const KEY = "portal-test-admin-key-0123456789";
const HOSTILE = '<img src=x onerror="window.__pwned=1">';

warnIfSkipped("the portal browser test");

describe.skipIf(!RUN_BROWSER_TESTS)("consumer portal in a browser", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  let base: string;
  let link: string;
  const problems: string[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON
    return (await res.json()) as any;
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    ({ herald, close } = await openTestHerald({ HERALD_API_KEY: KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" }));
    await herald.start();
    base = (await herald.listen()).url;
    await api("POST", "/applications", { name: `Shop ${HOSTILE}`, uid: "shop" });
    await api("POST", "/applications", { name: "Other", uid: "other" });
    await api("POST", "/applications/other/endpoints", { url: "https://other.example.com/secret-hook" });
    const ep = await api("POST", "/applications/shop/endpoints", { url: `${receiver.url}/first`, events: ["order.*"], filter: { n: { $gte: 1 } } });
    await api("POST", "/applications/shop/messages", { eventType: "order.created", payload: { n: 1 } });
    await eventually(async () => (await herald.store.listEndpointAttempts(ep.id, { limit: 5 })).data.length === 1);
    await api("POST", "/event-types", { name: "order.created", description: "An order was placed" });
    link = (await api("POST", "/applications/shop/portal-token")).url;
    expect(link).toMatch(new RegExp(`^${base}/portal#token=hpt_`));

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
    watchPage(page, problems);
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
    await receiver?.close();
  });

  it("opens with the link, hides the token from the address bar, and lists only its application's endpoints", async () => {
    await page.goto(link);
    await page.locator("#endpoints tbody tr td").first().waitFor();
    expect(page.url()).toBe(`${base}/portal`);
    expect(await page.textContent("#app-name")).toBe(`· Shop ${HOSTILE}`);
    const rows = await page.locator("#endpoints tbody tr").allTextContents();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toContain(`${receiver.url}/first`);
    expect(rows[0]).toContain('filter: {"n":{"$gte":1}}');
    expect(rows.join()).not.toContain("other.example.com");
    await page.getByRole("button", { name: "Attempts" }).click();
    await page.locator("#attempts tbody tr td").first().waitFor();
    expect(await page.locator("#attempts tbody tr").first().textContent()).toContain("✓ 200");
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("adds an endpoint, shows its secret once, sends it a test event, and deletes it", async () => {
    await page.fill("#create input[name=url]", `${receiver.url}/second`);
    await page.fill("#create input[name=events]", "webhook.test");
    await page.click("#create button[type=submit]");
    await expect.poll(() => page.textContent("#secret code")).toMatch(/^whsec_/);
    await expect.poll(() => page.locator("#endpoints tbody tr").count()).toBe(2);
    const row = page.locator("#endpoints tbody tr", { hasText: "/second" });
    await row.getByRole("button", { name: "Send test" }).click();
    await expect.poll(() => page.textContent("#status")).toMatch(/^Test sent: msg_/);
    await eventually(() => receiver.received.some((r) => r.path === "/second" && r.headers["x-webhook-event"] === "webhook.test"));
    page.once("dialog", (d) => void d.accept());
    await row.getByRole("button", { name: "Delete" }).click();
    await expect.poll(() => page.locator("#endpoints tbody tr").count()).toBe(1);
    await page.screenshot({ path: join(tmpdir(), "herald-portal.png"), fullPage: true });
    expect(problems).toEqual([]);
  });

  it("says so when opened without a token", async () => {
    const fresh = await browser.newPage();
    await fresh.goto(`${base}/portal`);
    await fresh.locator("#signed-out").waitFor();
    expect(await fresh.isVisible("#signed-out")).toBe(true);
    await fresh.close();
  });
});
