import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import { adminApi, launchBrowser, RUN_BROWSER_TESTS, warnIfSkipped, watchPage } from "../helpers/browser.js";
import { openTestHerald } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * The transformation editor (src/dashboard/static/views/transformation.js) on
 * the dashboard's endpoint page and in the consumer portal, in a real browser
 * against a real Herald: try code on a sample, see a failure's message, save
 * it enabled, and see a delivery arrive transformed.
 */

const KEY = "transform-test-admin-key-0123456789";
const CODE = "function handler(webhook) { webhook.payload = { text: 'hi ' + webhook.payload.name }; return webhook; }";
warnIfSkipped("the transformation editor browser test");

describe.skipIf(!RUN_BROWSER_TESTS)("transformation editor in a browser", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  let base: string;
  const problems: string[] = [];

  const api = adminApi(KEY, () => base);

  beforeAll(async () => {
    receiver = await startReceiver();
    ({ herald, close } = await openTestHerald({ HERALD_API_KEY: KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" }));
    await herald.start();
    base = (await herald.listen()).url;
    await api("POST", "/applications", { name: "Shop", uid: "shop" });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    // The failing try is an expected 422 on the console.
    watchPage(page, problems, /status of 422/);
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
    await receiver?.close();
  });

  /** Tries code on the page's editor, saves it enabled, and checks a delivery arrives transformed. */
  async function exercise(epId: string, path: string, name: string) {
    await page.locator("#transformation-code").waitFor();
    await page.fill("#transformation-code", "function handler(w) { return w.payload.nope.x; }");
    await page.click("#transformation-test");
    await expect.poll(() => page.textContent("#transformation-message"), { timeout: 10_000 }).toMatch(/^handler threw: TypeError: /);

    await page.fill("#transformation-code", CODE);
    await page.fill("#transformation-sample", JSON.stringify({ name: "sample" }));
    await page.click("#transformation-test");
    await page.locator("#transformation-result:not([hidden])").waitFor();
    expect(JSON.parse((await page.textContent("#transformation-result"))!).payload).toEqual({ text: "hi sample" });

    await page.check("#transformation-enabled");
    await page.click("#transformation-save");
    await expect.poll(() => page.textContent("#transformation-message"), { timeout: 10_000 }).toMatch(/^Saved and enabled/);
    expect((await api("GET", `${path}/${epId}`)).transformation).toEqual({ code: CODE, enabled: true });

    const before = receiver.received.length;
    await api("POST", "/applications/shop/messages", { eventType: "order.created", payload: { name } });
    const got = await receiver.waitFor(before + 1);
    expect(got.slice(before).map((r) => r.body)).toEqual([JSON.stringify({ text: `hi ${name}` })]);
  }

  it("on the dashboard's endpoint page", async () => {
    const path = "/applications/shop/endpoints";
    const ep = await api("POST", path, { url: `${receiver.url}/dashboard` });
    const app = await api("GET", "/applications/shop");
    await page.goto(`${base}/`);
    await page.fill("#key", KEY);
    await page.click("#signin button[type=submit]");
    await page.locator("tr.application").first().waitFor();
    await page.goto(`${base}/#/apps/${app.id}/endpoints/${ep.id}`);
    await exercise(ep.id, path, "dashboard");
    await api("DELETE", `${path}/${ep.id}`);
    expect(problems).toEqual([]);
  });

  it("in the consumer portal", async () => {
    const path = "/applications/shop/endpoints";
    const ep = await api("POST", path, { url: `${receiver.url}/portal` });
    const { url } = await api("POST", "/applications/shop/portal-token");
    await page.goto(url);
    await page.getByRole("link", { name: `Open endpoint ${receiver.url}/portal` }).click();
    await exercise(ep.id, path, "portal");
    expect(problems).toEqual([]);
  });
});
