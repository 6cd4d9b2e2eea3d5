import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PortalTokens } from "../../src/api/portal-tokens.js";
import type { Herald } from "../../src/herald.js";
import { adminApi, launchBrowser, RUN_BROWSER_TESTS, warnIfSkipped, watchPage } from "../helpers/browser.js";
import { eventually, openTestHerald } from "../helpers/herald.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * The consumer portal in a real browser (Debian's Chromium via playwright-core),
 * opened with a portal token's link, against a real Herald and receiver on
 * 127.0.0.1: every task a customer does, by clicking, at desktop (1280 px) and
 * phone (390 px) widths, with no horizontal overflow and no page errors after
 * each. Skips loudly without /usr/bin/chromium unless CI or
 * HERALD_REQUIRE_BROWSER=1 is set (then it fails), like the dashboard's test.
 */

const KEY = "portal-test-admin-key-0123456789";
const HOSTILE = '<img src=x onerror="window.__pwned=1">';
const ATTEMPTS = 22; // more than one page of the log (20)

warnIfSkipped("the portal browser test");

describe.skipIf(!RUN_BROWSER_TESTS)("consumer portal in a browser", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;
  let browser: Browser;
  let base: string;

  const api = adminApi(KEY, () => base);

  beforeAll(async () => {
    // A payload with `fail` gets a 503 with a body and a header to show.
    receiver = await startReceiver((req, res) => {
      if (req.body.includes('"fail"')) res.writeHead(503, { "x-why": "maintenance" }).end("down for maintenance");
      else res.end("ok");
    });
    ({ herald, close } = await openTestHerald({ HERALD_API_KEY: KEY, HERALD_ALLOWED_NETWORKS: "127.0.0.0/8" }));
    await herald.start();
    base = (await herald.listen()).url;
    await api("POST", "/event-types", {
      name: "order.created",
      description: "An order was **placed**.\n\n- carries `orderId`\n- and the total",
      schema: { type: "object", required: ["orderId"], properties: { orderId: { type: "string", description: "the order's id" }, total: { type: "number" } } },
      examples: [{ orderId: "ord_example_1", total: 12.5 }],
    });
    await api("POST", "/event-types", { name: "order.shipped", description: "The order left the warehouse." });
    await api("POST", "/event-types", { name: "pet.adopted", description: "A pet found a home." });
    await api("POST", "/applications", { name: "Other", uid: "other" });
    await api("POST", "/applications/other/endpoints", { url: "https://other.example.com/secret-hook" });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
    await receiver?.close();
  });

  for (const width of [1280, 390]) {
    describe(`at ${width} px`, () => {
      const uid = `shop-${width}`;
      const problems: string[] = [];
      let context: BrowserContext;
      let page: Page;
      let link: string;
      let appId: string;
      // biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON
      let main: any;

      /** No horizontal scrolling and nothing went wrong so far. */
      const fits = async (what: string) => {
        const [scroll, inner] = await page.evaluate(() => [document.documentElement.scrollWidth, innerWidth]);
        expect(scroll, `${what}: page wider than the window`).toBeLessThanOrEqual(inner!);
        expect(problems, what).toEqual([]);
        if (width < 500) {
          // On a phone every control is a 44 px touch target (checkboxes and radios through their label).
          const small = await page.evaluate(() =>
            [...document.querySelectorAll<HTMLElement>("button, a.button, a.back, .ep-link, select, input:not([type=checkbox]):not([type=radio]), label.check, summary")]
              .filter((el) => el.offsetParent !== null)
              .filter((el) => el.getBoundingClientRect().height < 44)
              .map((el) => `${el.tagName} ${el.textContent?.slice(0, 30)} ${el.getBoundingClientRect().height}`),
          );
          expect(small, `${what}: controls under 44 px`).toEqual([]);
        }
      };
      const openEndpoint = async (url: string) => {
        await page.goto(`${base}/portal?app=${appId}#/`);
        await page.getByRole("link", { name: `Open endpoint ${url}` }).click();
        await page.locator("li.attempt, .table-status").first().waitFor();
      };

      beforeAll(async () => {
        const app = await api("POST", "/applications", { name: `Shop ${HOSTILE}`, uid, portal: { accentColor: "#0a7d4b", accentColorDark: "#66ddaa" } });
        appId = app.id;
        main = await api("POST", `/applications/${uid}/endpoints`, { url: `${receiver.url}/${width}/main`, events: ["order.*", "pet.*"], description: "Main hook" });
        for (let i = 1; i < ATTEMPTS; i++) await api("POST", `/applications/${uid}/messages`, { eventType: "order.created", payload: { orderId: `ord_${i}`, total: i } });
        await api("POST", `/applications/${uid}/messages`, { eventType: "pet.adopted", payload: { pet: "Rex", fail: true } });
        await eventually(async () => (await herald.store.listEndpointAttempts(main.id, { limit: 50 })).data.length === ATTEMPTS, 20_000);
        link = (await api("POST", `/applications/${uid}/portal-token`)).url;
        context = await browser.newContext({ viewport: { width, height: 900 }, hasTouch: width < 500 });
        await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
        page = await context.newPage();
        watchPage(page, problems);
      });
      afterAll(() => context?.close());

      it("opens with the link: token out of the address bar, themed, only this application's endpoints", async () => {
        expect(link).toBe(`${base}/portal?app=${appId}#token=${link.split("#token=")[1]}`);
        await page.goto(link);
        await page.locator(".ep-card").first().waitFor();
        expect(page.url()).toBe(`${base}/portal?app=${appId}#/`);
        expect(await page.textContent("#app-name")).toBe(`Shop ${HOSTILE}`);
        const cards = await page.locator(".ep-card").allTextContents();
        expect(cards).toHaveLength(1);
        expect(cards.join()).not.toContain("other.example.com");
        const accent = await page.evaluate(() => getComputedStyle(document.querySelector("#add-endpoint")!).backgroundColor);
        expect(accent).toBe("rgb(10, 125, 75)");
        expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
        await fits("endpoint list");
      });

      it("opens an attempt: status, duration, error, request and response headers and bodies", async () => {
        await openEndpoint(main.url);
        expect(await page.locator("li.attempt").count()).toBe(20);
        const failed = page.locator('li.attempt[data-success="false"]').first();
        const row = failed.locator("button.attempt-row");
        expect(await row.getAttribute("aria-expanded")).toBe("false");
        // Keyboard: focus the row and press Enter.
        await row.focus();
        await page.keyboard.press("Enter");
        await failed.locator(".attempt-detail").waitFor();
        expect(await row.getAttribute("aria-expanded")).toBe("true");
        const detail = failed.locator(".attempt-detail");
        const text = (await detail.textContent()) ?? "";
        expect(text).toContain("Failed · HTTP 503");
        expect(text).toMatch(/Duration\d[\d,.]* ms/);
        expect(text).toContain("http_status");
        expect(text).toContain("pet.adopted");
        await detail.locator("summary", { hasText: /^Headers$/ }).click();
        expect(await detail.locator("dl.headers").first().textContent()).toMatch(/webhook-id\s*msg_.*x-webhook-event\s*pet\.adopted.*x-webhook-attempt\s*1/s);
        expect(JSON.parse((await detail.locator(".request-body").textContent())!)).toEqual({ pet: "Rex", fail: true });
        await detail.locator("summary", { hasText: /^Headers \(\d+\)$/ }).click();
        expect(await detail.locator("dl.headers").nth(1).textContent()).toContain("x-whymaintenance");
        expect(await detail.locator(".response-body").textContent()).toBe("down for maintenance");
        await row.focus();
        await page.keyboard.press("Enter");
        expect(await row.getAttribute("aria-expanded")).toBe("false");
        await fits("attempt detail");
      });

      it("resends one message to the endpoint", async () => {
        const before = receiver.received.filter((r) => r.path === `/${width}/main`).length;
        const first = page.locator("li.attempt").first();
        await first.locator("button.attempt-row").click();
        const resend = first.getByRole("button", { name: new RegExp(`^Resend message msg_\\w+ to ${main.url.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`) });
        await resend.click();
        await first.locator(".notice.ok").waitFor();
        await eventually(() => receiver.received.filter((r) => r.path === `/${width}/main`).length === before + 1);
        await fits("resend");
      });

      // Two failed attempts by now: the pet.adopted message's first, and its resend.
      it("filters the log (failed only, event type, status code, time range) and pages it", async () => {
        await openEndpoint(main.url);
        await page.locator("#load-more").click();
        await expect.poll(() => page.locator("li.attempt").count()).toBeGreaterThanOrEqual(ATTEMPTS);
        expect(await page.locator("#load-more").isHidden()).toBe(true);
        const apply = () => page.getByRole("button", { name: "Apply filters" }).click();
        await page.getByLabel("Failed only").check();
        await apply();
        await expect.poll(() => page.locator("li.attempt").count()).toBe(2);
        expect(await page.locator('li.attempt[data-success="true"]').count()).toBe(0);
        await page.getByLabel("Failed only").uncheck();
        await page.getByLabel("Status code").fill("503");
        await apply();
        await expect.poll(() => page.locator("li.attempt").count()).toBe(2);
        await page.getByLabel("Status code").fill("");
        await page.getByLabel("Event type").last().selectOption("pet.adopted");
        await apply();
        await expect.poll(() => page.locator("li.attempt").count()).toBe(2);
        await page.getByLabel("Event type").last().selectOption("order.created");
        await apply();
        await expect.poll(() => page.locator("li.attempt").count()).toBe(20);
        expect(await page.locator("#load-more").isVisible()).toBe(true);
        await page.getByLabel("Event type").last().selectOption("");
        await page.getByLabel("From").fill("2099-01-01T00:00");
        await apply();
        await expect.poll(() => page.locator(".attempts + .table-status").textContent()).toBe("No attempts match.");
        await page.getByRole("button", { name: "Clear" }).click();
        await expect.poll(() => page.locator("li.attempt").count()).toBe(20);
        await fits("filters");
      });

      it("adds an endpoint with the catalog in front of them, warned about a type not in it", async () => {
        await page.goto(`${base}/portal?app=${appId}#/`);
        await page.locator("#add-endpoint").click();
        await page.getByLabel("Endpoint URL").fill(`${receiver.url}/${width}/second`);
        await page.getByLabel("Only the ones I choose").check();
        const groups = await page.locator("fieldset.type-group legend").allTextContents();
        expect(groups).toEqual(["order", "pet"]);
        const created = page.locator('li.type[data-type="order.created"]');
        expect(await created.locator(".md strong").textContent()).toBe("placed");
        expect(await created.locator(".md li").allTextContents()).toEqual(["carries orderId", "and the total"]);
        expect(await created.textContent()).not.toContain("**");
        const details = created.getByRole("button", { name: "Schema and example of order.created" });
        expect(await details.getAttribute("aria-expanded")).toBe("false");
        await details.click();
        expect(await details.getAttribute("aria-expanded")).toBe("true");
        expect(await created.locator("ul.schema").textContent()).toMatch(/orderId\s*string\s*required\s*the order's id/);
        expect(JSON.parse((await created.locator("pre.example").textContent())!)).toEqual({ orderId: "ord_example_1", total: 12.5 });
        await created.locator("label.check").click();
        await page.getByLabel("Every pet event").check();
        await page.getByLabel("Other event types or patterns").fill("invoice.paid");
        await expect.poll(() => page.locator(".notice.warn").textContent()).toContain("Not in the catalog: invoice.paid");
        await page.getByLabel("Other event types or patterns").fill("");
        expect(await page.locator(".notice.warn").isHidden()).toBe(true);
        await fits("add form");
        await page.getByRole("button", { name: "Add endpoint" }).click();
        await expect.poll(() => page.textContent("#new-secret")).toMatch(/^whsec_/);
        const list = await api("GET", `/applications/${uid}/endpoints`);
        const second = list.data.find((e: { url: string }) => e.url.endsWith("/second"));
        expect(second.events).toEqual(["order.created", "pet.*"]);
        await page.locator("#open-created").click();
        await page.locator("#edit").waitFor();
        await fits("new endpoint");
      });

      it("edits an endpoint: its description and event types", async () => {
        await page.getByRole("link", { name: `Edit endpoint ${receiver.url}/${width}/second` }).click();
        await page.getByLabel("Description (optional)").fill("Second hook");
        expect(await page.getByLabel("Every pet event").isChecked()).toBe(true);
        await page.getByLabel("Every pet event").uncheck();
        await page.getByLabel("Other event types or patterns").fill("invoice.paid");
        await page.getByLabel(/^In order: one event at a time/).check();
        await page.getByLabel(/^Only events whose content matches/).fill('{"data.total": {"$gte": 100}}');
        await page.getByRole("button", { name: "Save changes" }).click();
        await page.locator("#edit").waitFor();
        expect(await page.locator("#ordering").textContent()).toBe("In order, one at a time");
        const list = await api("GET", `/applications/${uid}/endpoints`);
        const second = list.data.find((e: { url: string }) => e.url.endsWith("/second"));
        expect(second).toMatchObject({
          description: "Second hook",
          events: ["order.created", "invoice.paid"],
          ordering: "fifo",
          filter: { "data.total": { $gte: 100 } },
        });
        await fits("edit");
      });

      it("reveals, copies and rotates the secret, with the overlap explained", async () => {
        await openEndpoint(main.url);
        const { secret } = await api("GET", `/applications/${uid}/endpoints/${main.id}/secret`);
        expect(await page.textContent("#secret-value")).not.toBe(secret);
        const show = page.getByRole("button", { name: `Show the signing secret of ${main.url}` });
        await show.click();
        await expect.poll(() => page.textContent("#secret-value")).toBe(secret);
        expect(await page.locator("#reveal-secret").getAttribute("aria-pressed")).toBe("true");
        await page.getByRole("button", { name: `Copy the signing secret of ${main.url}` }).click();
        await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
        expect(await page.locator("section[aria-labelledby=secret-title]").textContent()).toContain("For the next 24 hours every webhook is signed with both");
        const rotate = page.locator("#rotate-secret");
        await rotate.click();
        expect(await rotate.textContent()).toBe("Press again to rotate");
        await rotate.click();
        await page.locator("section[aria-labelledby=secret-title] .notice.ok").waitFor();
        const rotated = (await api("GET", `/applications/${uid}/endpoints/${main.id}/secret`)).secret;
        expect(rotated).not.toBe(secret);
        expect(await page.textContent("#secret-value")).toBe(rotated);
        await fits("secret");
      });

      it("sends a test event of a chosen type and shows its result inline", async () => {
        await page.getByLabel("Event type").first().selectOption("order.shipped");
        await page.getByRole("button", { name: `Send a test event to ${main.url}` }).click();
        await expect.poll(() => page.locator("#test-result [data-success]").getAttribute("data-success"), { timeout: 15_000 }).toBe("true");
        expect(await page.textContent("#test-result")).toMatch(/Delivered · HTTP 200 · \d/);
        expect(receiver.received.some((r) => r.path === `/${width}/main` && r.headers["x-webhook-event"] === "order.shipped")).toBe(true);
        await fits("test event");
      });

      it("disables and enables, and recovers from a chosen time", async () => {
        const disable = page.getByRole("button", { name: `Disable endpoint ${main.url}` });
        await disable.click();
        await page.getByRole("button", { name: `Press again to disable: Disable endpoint ${main.url}` }).click();
        await page.locator("#disabled-banner").waitFor();
        expect(await page.textContent("#disabled-banner")).toContain("disabled by hand");
        expect(await page.locator("#send-test").isDisabled()).toBe(true);
        // Published while disabled: kept as skipped, then recovered.
        await api("POST", `/applications/${uid}/messages`, { eventType: "order.created", payload: { orderId: "while-disabled" } });
        await fits("disabled");
        await page.getByRole("button", { name: `Enable endpoint ${main.url}` }).click();
        await page.locator("#disable").waitFor();
        expect(await page.locator("#disabled-banner").count()).toBe(0);
        await page.getByLabel("Since").fill("2000-01-01T00:00");
        await page.getByRole("button", { name: `Recover failed deliveries to ${main.url}` }).click();
        await expect.poll(() => page.textContent("section[aria-labelledby=recover-title] .notice")).toMatch(/^Queued [1-9]\d* deliveries again\.$/);
        await eventually(() => receiver.received.some((r) => r.path === `/${width}/main` && r.body.includes("while-disabled")));
        await fits("recover");
      });

      it("deletes an endpoint after asking twice", async () => {
        await page.goto(`${base}/portal?app=${appId}#/`);
        await page.getByRole("link", { name: `Open endpoint ${receiver.url}/${width}/second` }).click();
        const remove = page.getByRole("button", { name: `Delete endpoint ${receiver.url}/${width}/second` });
        await remove.click();
        await page.locator("#delete.armed").click();
        await expect.poll(() => page.locator(".ep-card").count()).toBe(1);
        await fits("delete");
      });

      it("follows the system's dark mode, with the application's dark accent", async () => {
        await page.emulateMedia({ colorScheme: "dark" });
        await page.goto(`${base}/portal?app=${appId}#/`);
        await page.locator(".ep-card").first().waitFor();
        const [bg, accent, text] = await page.evaluate(() => {
          const button = getComputedStyle(document.querySelector("#add-endpoint")!);
          return [getComputedStyle(document.documentElement).backgroundColor, button.backgroundColor, button.color];
        });
        expect(bg).toBe("rgb(15, 18, 24)");
        expect(accent).toBe("rgb(102, 221, 170)");
        // A light accent gets dark text: it must stay readable.
        expect(text).toBe("rgb(17, 17, 17)");
        await page.screenshot({ path: join(tmpdir(), `herald-portal-${width}.png`), fullPage: true });
        await page.emulateMedia({ colorScheme: "light" });
        await fits("dark mode");
      });
    });
  }

  describe("a link that does not work says so and shows nothing else", () => {
    const open = async (url: string) => {
      const problems: string[] = [];
      // A fresh context: no token left in sessionStorage from another test.
      const context = await browser.newContext({ viewport: { width: 390, height: 800 } });
      const page = await context.newPage();
      watchPage(page, problems, /401 \(Unauthorized\)/);
      await page.goto(url);
      await page.locator(".link-problem").waitFor();
      const result = {
        problem: await page.locator(".link-problem").getAttribute("data-problem"),
        heading: await page.locator("h1").textContent(),
        topbar: await page.locator("#topbar").isVisible(),
        // biome-ignore lint/performance/useDomNodeTextContent: what is rendered is the point (hidden elements must not count)
        text: await page.locator("body").innerText(),
        problems,
      };
      await context.close();
      return result;
    };
    let shop: { id: string; uid: string };

    beforeAll(async () => {
      shop = await api("POST", "/applications", { name: "Secretive Shop", uid: "secretive" });
      await api("POST", "/applications/secretive/endpoints", { url: "https://secretive.example.com/hook" });
    });

    it("expired", async () => {
      const token = await new PortalTokens(herald.store).issue(shop.id as never, Date.now() - 60_000);
      const r = await open(`${base}/portal?app=${shop.id}#token=${token}`);
      expect(r, JSON.stringify(r)).toMatchObject({ problem: "expired", heading: "This link has expired", topbar: false, problems: [] });
      expect(r.text).not.toMatch(/Secretive|secretive\.example/);
    });

    it("tampered with (the server refuses it)", async () => {
      const { token } = await api("POST", "/applications/secretive/portal-token");
      const bad = `${token.slice(0, -2)}${token.endsWith("AA") ? "BB" : "AA"}`;
      const r = await open(`${base}/portal?app=${shop.id}#token=${bad}`);
      expect(r).toMatchObject({ problem: "invalid", heading: "This link is not valid", topbar: false, problems: [] });
      expect(r.text).not.toMatch(/Secretive|secretive\.example/);
    });

    it("for another application than the page's", async () => {
      const { token } = await api("POST", "/applications/secretive/portal-token");
      const other = await api("GET", "/applications/other");
      const r = await open(`${base}/portal?app=${other.id}#token=${token}`);
      expect(r).toMatchObject({ problem: "invalid", topbar: false, problems: [] });
    });

    it("(but one naming the application by its uid works)", async () => {
      const { token } = await api("POST", "/applications/secretive/portal-token");
      const context = await browser.newContext({ viewport: { width: 390, height: 800 } });
      const page = await context.newPage();
      const problems: string[] = [];
      watchPage(page, problems);
      await page.goto(`${base}/portal?app=secretive#token=${token}`);
      await page.locator(".ep-card").waitFor();
      expect(await page.textContent("#app-name")).toBe("Secretive Shop");
      expect(problems).toEqual([]);
      await context.close();
    });

    it("garbage, or no token at all", async () => {
      expect(await open(`${base}/portal#token=not-a-token`)).toMatchObject({ problem: "invalid", topbar: false, problems: [] });
      expect(await open(`${base}/portal`)).toMatchObject({ problem: "missing", topbar: false, problems: [] });
    });
  });

  describe("embedded in another site's page", () => {
    let parent: Server;
    let parentOrigin: string;
    let link: string;

    beforeAll(async () => {
      parent = createServer((req, res) => {
        const src = decodeURIComponent((req.url ?? "").slice(2));
        res.setHeader("content-type", "text/html");
        res.end(`<!doctype html><title>SaaS</title><iframe id="portal" src="${src.replace(/"/g, "&quot;")}" width="390" height="700" allow="clipboard-write"></iframe>`);
      });
      await new Promise<void>((r) => parent.listen(0, "127.0.0.1", r));
      parentOrigin = `http://127.0.0.1:${(parent.address() as AddressInfo).port}`;
      await api("POST", "/applications", { name: "Embedded", uid: "embedded", portal: { name: "Acme Webhooks", frameAncestors: [parentOrigin] } });
      await api("POST", "/applications/embedded/endpoints", { url: "https://embedded.example.com/hook" });
      link = (await api("POST", "/applications/embedded/portal-token")).url;
    });
    afterAll(() => new Promise<void>((r) => parent?.close(() => r())));

    it("loads in a frame of an allowed origin, with the application's name", async () => {
      const page = await browser.newPage();
      const problems: string[] = [];
      watchPage(page, problems);
      await page.goto(`${parentOrigin}/?${encodeURIComponent(link)}`);
      const frame = page.frameLocator("#portal");
      await frame.locator(".ep-card").waitFor();
      expect(await frame.locator("#app-name").textContent()).toBe("Acme Webhooks");
      expect(problems).toEqual([]);
      await page.close();
    });

    it("is refused in a frame of any other origin", async () => {
      await api("PATCH", "/applications/embedded", { portal: { frameAncestors: ["https://elsewhere.example.com"] } });
      const page = await browser.newPage();
      const blocked: string[] = [];
      page.on("console", (m) => blocked.push(m.text()));
      await page.goto(`${parentOrigin}/?${encodeURIComponent(link)}`);
      await expect.poll(() => blocked.join("\n")).toMatch(/frame-ancestors/);
      expect(await page.frameLocator("#portal").locator(".ep-card").count()).toBe(0);
      await page.close();
    });
  });
});
