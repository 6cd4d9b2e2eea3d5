// @ts-check
// Send a test event of a chosen type to one endpoint, and show how its
// attempt went right there: status, duration, error.

import { h, mount, ms } from "/dashboard/dom.js";
import { busy, notify } from "/dashboard/widgets.js";
import { field } from "./ui.js";

const POLL_MS = 500;
const WAIT_MS = 20_000;
const sleep = (/** @type {number} */ t) => new Promise((r) => setTimeout(r, t));

/**
 * @param {any} ctx
 * @param {any} ep
 * @param {import("./catalog.js").EventType[]} types
 * @param {() => void} onAttempt called once the test's attempt is in (the log refreshes)
 */
export function testEventPanel(ctx, ep, types, onAttempt) {
  const result = h("div", { class: "notices", id: "test-result" });
  const select = /** @type {HTMLSelectElement} */ (
    h("select", { name: "eventType", id: "test-type" }, h("option", { value: "webhook.test" }, "webhook.test (a generic test)"), types.filter((t) => t.name !== "webhook.test").map((t) => h("option", { value: t.name }, t.name)))
  );
  const active = ep.status === "active";
  const send = h("button", { type: "button", id: "send-test", disabled: !active, "aria-label": `Send a test event to ${ep.url}` }, "Send test event");
  send.addEventListener("click", () =>
    busy(send, result, async () => {
      const { messageId } = await ctx.call("POST", `${ctx.base}/endpoints/${encodeURIComponent(ep.id)}/test`, { eventType: select.value });
      notify(result, "info", "Sent; waiting for the attempt…");
      const deadline = Date.now() + WAIT_MS;
      while (Date.now() < deadline) {
        const { data } = await ctx.call("GET", `${ctx.base}/messages/${encodeURIComponent(messageId)}/attempts?limit=1`);
        const a = data[0];
        if (a) {
          mount(
            result,
            h(
              "div",
              { class: `notice ${a.success ? "ok" : "bad"}`, role: "status", "data-success": String(a.success) },
              h("strong", null, a.success ? "Delivered" : "Failed"),
              ` · ${a.statusCode === null ? (a.errorKind ?? "no response") : `HTTP ${a.statusCode}`} · ${ms(a.durationMs)}`,
              a.errorMessage ? h("div", { class: "small" }, a.errorMessage) : null,
              a.responseBody ? h("pre", { class: "body" }, a.responseBody) : null,
            ),
          );
          onAttempt();
          return;
        }
        await sleep(POLL_MS);
      }
      notify(result, "info", "No attempt yet: it is queued and will show in the log below.");
    }),
  );
  return h(
    "section",
    { class: "panel", "aria-labelledby": "test-title" },
    h("h2", { id: "test-title" }, "Send a test event"),
    active ? null : h("p", { class: "hint" }, "Enable the endpoint to send it a test."),
    h("div", { class: "inline-form" }, field("Event type", select), send),
    result,
  );
}
