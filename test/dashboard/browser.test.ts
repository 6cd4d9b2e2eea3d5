import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Herald } from "../../src/herald.js";
import type { Application, Endpoint } from "../../src/store/model.js";
import { launchBrowser, RUN_BROWSER_TESTS, warnIfSkipped, watchPage } from "../helpers/browser.js";
import { createApp, createEndpoint, eventually, openTestHerald } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * The dashboard in a real browser (Debian's Chromium, driven by playwright-core)
 * against a real Herald and a real receiver, all on 127.0.0.1.
 * Without /usr/bin/chromium this skips loudly, unless CI or
 * HERALD_REQUIRE_BROWSER=1 is set: then it fails.
 */

const KEY = "dashboard-test-admin-key-0123456789";
warnIfSkipped("the dashboard browser test");

const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';

describe.skipIf(!RUN_BROWSER_TESTS)("dashboard in a browser", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;
  let browser: Browser;
  let page: Page;
  let base: string;
  let app: Application;
  let ep: Endpoint;
  const problems: string[] = [];

  const apiGet = async (path: string) => {
    const res = await fetch(`${base}/api/v1${path}`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(res.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON
    return (await res.json()) as any;
  };
  const shot = async (name: string) => {
    const file = join(tmpdir(), `herald-dashboard-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.info(`dashboard screenshot: ${file}`);
  };

  beforeAll(async () => {
    receiver = await startReceiver((req, res) => {
      if (req.body.includes('"fail":true')) {
        res.writeHead(500, { "content-type": "text/html" });
        res.end(`nope ${HOSTILE}`);
      } else {
        res.end("ok");
      }
    });
    // One retry an hour away: the failing delivery stays pending for the whole test.
    ({ herald, close } = await openTestHerald({ HERALD_API_KEY: KEY, HERALD_RETRY_SCHEDULE: "0s,1h", HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" }));
    await herald.start();
    base = (await herald.listen()).url;
    expect(new URL(base).hostname).toBe("127.0.0.1");

    app = await createApp(herald, `Pet Store ${HOSTILE}`);
    ep = await createEndpoint(herald, app, `${receiver.url}/hooks`, { description: "adoptions", filter: { pet: { $exists: true } } });
    for (const payload of [{ pet: 1 }, { pet: 2 }, { pet: 3, fail: true }, { pet: 4 }]) {
      await herald.publish({ appId: app.id, eventType: "pet.adopted", payload: JSON.stringify(payload), channels: null, eventId: null });
    }
    await eventually(async () => (await herald.store.listEndpointAttempts(ep.id, { limit: 10 })).data.length === 4);

    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The sign-in test's wrong key is an expected 401 on the console.
    watchPage(page, problems, /status of 401/);
    page.on("dialog", (d) => {
      problems.push(`unexpected dialog: ${d.message()}`);
      void d.dismiss();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
    await receiver?.close();
  });

  it("signs in with the admin key (and refuses a wrong one)", async () => {
    await page.goto(`${base}/`);
    await page.locator("#signin").waitFor();
    await shot("signin");
    await page.fill("#key", "not-the-key-at-all");
    await page.click("#signin button[type=submit]");
    await expect.poll(() => page.textContent(".signin-error")).toContain("not accepted");

    await page.fill("#key", KEY);
    await page.click("#signin button[type=submit]");
    const row = page.locator("tr.application");
    await row.first().waitFor();
    expect(await row.count()).toBe(1);
    // The name is shown as text, markup and all.
    expect(await row.first().locator("td").first().textContent()).toBe(app.name);
    expect(await page.evaluate(() => sessionStorage.getItem("herald.adminKey"))).toBe(KEY);
  });

  it("shows the application's endpoints and messages", async () => {
    await page.click("tr.application a");
    const card = page.locator(`a.endpoint-card[data-endpoint-id="${ep.id}"]`);
    await card.waitFor();
    expect(await card.locator(".badge").textContent()).toBe("active");
    expect(await card.locator(".url").textContent()).toBe(ep.url);
    await card.locator("svg.spark").waitFor();
    expect(await page.locator("tr.message").count()).toBe(4);
    expect(await page.locator("h1").first().textContent()).toBe(app.name);
    await shot("application");
  });

  it("draws the endpoint's charts and lists its attempts", async () => {
    const stats = await apiGet(`/applications/${app.id}/endpoints/${ep.id}/stats`);
    const buckets = stats.series as { succeeded: number; failed: number; p50: number | null }[];
    expect(buckets).toHaveLength(24);

    await page.click(`a.endpoint-card[data-endpoint-id="${ep.id}"]`);
    await page.locator("#success-chart svg").waitFor();
    // The payload filter, read-only.
    expect(await page.locator("dl.facts pre").textContent()).toBe(JSON.stringify({ pet: { $exists: true } }, null, 2));
    expect(await page.locator("#success-chart rect.bar").count()).toBe(24);
    expect(await page.locator("#success-chart rect.bar:not(.empty)").count()).toBe(buckets.filter((b) => b.succeeded + b.failed > 0).length);
    expect(await page.locator("#latency-chart circle.point").count()).toBe(buckets.filter((b) => b.p50 !== null).length);
    expect(await page.locator(".tile-value").first().textContent()).toBe("75%");

    const rows = page.locator("tr.attempt");
    expect(await rows.count()).toBe(4);
    const failed = rows.filter({ hasText: "failed" });
    expect(await failed.count()).toBe(1);
    expect(await failed.locator("td").nth(2).textContent()).toBe("500");
    expect(await failed.locator("td").nth(4).textContent()).toBe("http_status");

    // Clicking a row shows the response body, as text.
    await failed.click();
    const body = page.locator("tr.detail:not([hidden]) pre.body");
    await body.waitFor();
    expect(await body.textContent()).toBe(`nope ${HOSTILE}`);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await shot("endpoint");
  });

  it("sends a test event and shows its attempt", async () => {
    await page.click("#send-test");
    await expect.poll(() => page.locator("tr.attempt").count(), { timeout: 15_000 }).toBe(5);
    const newest = page.locator("tr.attempt").first();
    expect(await newest.locator(".badge").textContent()).toContain("delivered");
    await expect.poll(() => page.textContent(".notices")).toContain("Test event sent");
    const received = await receiver.waitFor(5);
    expect(received.at(-1)!.headers["x-webhook-event"]).toBe("webhook.test");
  });

  it("disables and enables the endpoint", async () => {
    await page.click("#disable");
    await page.click("#disable"); // the second click confirms
    await page.locator('.title .badge[data-status="disabled"]').waitFor();
    expect(await page.locator(".title .badge").textContent()).toBe("disabled · manual");
    expect(await page.locator("#send-test").isDisabled()).toBe(true);
    expect((await herald.store.getEndpoint(app.id, ep.id))!.status).toBe("disabled");

    await page.click("#enable");
    await page.locator('.title .badge[data-status="active"]').waitFor();
    expect(await page.locator("#send-test").isDisabled()).toBe(false);

    // Both changes are operational events, listed under the endpoint.
    await page.reload();
    await page.locator("tr.operational-event").first().waitFor();
    const kinds = await page.locator("tr.operational-event .badge").allTextContents();
    expect(kinds.slice(0, 2)).toEqual(["endpoint.enabled", "endpoint.disabled"]);
  });

  it("rotates the secret and shows the new one once", async () => {
    await page.click("#rotate");
    await page.click("#rotate");
    const shown = await page.locator("#new-secret").textContent();
    expect(shown).toMatch(/^whsec_/);
    expect((await herald.store.getEndpoint(app.id, ep.id))!.secret).toBe(shown);
  });

  it("recovers since a time", async () => {
    await page.click("#recover");
    await expect.poll(() => page.textContent(".notices")).toMatch(/Queued 1 deliveries again|Nothing to recover/);
  });

  it("shows a message with its payload and deliveries, and resends it", async () => {
    const failedRow = page.locator("tr.attempt", { hasText: "failed" }).first();
    await failedRow.locator("a").click();
    const payload = page.locator("pre.payload");
    await payload.waitFor();
    expect(JSON.parse((await payload.textContent())!)).toEqual({ pet: 3, fail: true });
    const delivery = page.locator(`tr.delivery[data-endpoint-id="${ep.id}"]`);
    expect(await delivery.count()).toBe(1);
    expect(await page.locator("tr.attempt").count()).toBeGreaterThanOrEqual(1);
    await shot("message");

    const before = receiver.received.length;
    await delivery.locator("button").click();
    await expect.poll(() => page.textContent(".notices")).toContain("Resend queued");
    await receiver.waitFor(before + 1);
  });

  it("ran without script errors, CSP violations or requests off 127.0.0.1", () => {
    expect(problems).toEqual([]);
  });
}, 120_000);
