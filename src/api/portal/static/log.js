// @ts-check
// An endpoint's attempt log: filters (failed only, event type, status code,
// time range), newest first, a page at a time; each attempt opens in place.

import { ago, h, localInputValue, ms, mount } from "/dashboard/dom.js";
import { busy } from "/dashboard/widgets.js";
import { attemptDetail } from "./attempt.js";
import { disclosure, field } from "./ui.js";

const PAGE = 20;

/** @param {string} value a datetime-local value @returns {string | undefined} */
function isoOf(value) {
  if (!value) return undefined;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

/**
 * @param {any} ctx @param {any} ep @param {import("./catalog.js").EventType[]} types
 */
export function attemptLog(ctx, ep, types) {
  const failed = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", name: "failed", id: "filter-failed" }));
  const eventType = /** @type {HTMLSelectElement} */ (
    h("select", { name: "eventType", id: "filter-event" }, h("option", { value: "" }, "Any"), h("option", { value: "webhook.test" }, "webhook.test"), types.filter((t) => t.name !== "webhook.test").map((t) => h("option", { value: t.name }, t.name)))
  );
  const statusCode = /** @type {HTMLInputElement} */ (h("input", { type: "number", name: "statusCode", id: "filter-status", min: 100, max: 599, inputmode: "numeric", placeholder: "e.g. 500" }));
  const after = /** @type {HTMLInputElement} */ (h("input", { type: "datetime-local", name: "after", id: "filter-after" }));
  const before = /** @type {HTMLInputElement} */ (h("input", { type: "datetime-local", name: "before", id: "filter-before", max: localInputValue(new Date(Date.now() + 86_400_000)) }));
  const list = h("ul", { class: "attempts", "aria-label": `Attempts to ${ep.url}` });
  const status = h("div", { class: "table-status muted", role: "status" });
  const more = h("button", { type: "button", id: "load-more", hidden: true }, "Older attempts");
  const apply = h("button", { type: "submit", class: "primary" }, "Apply filters");
  const clear = h("button", { type: "reset", class: "ghost" }, "Clear");

  /** @type {string | null} */
  let cursor = null;
  let shown = 0;

  function queryString() {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (failed.checked) q.set("status", "failed");
    if (eventType.value) q.set("eventType", eventType.value);
    if (statusCode.value) q.set("statusCode", statusCode.value);
    const from = isoOf(after.value);
    const to = isoOf(before.value);
    if (from) q.set("after", from);
    if (to) q.set("before", to);
    if (cursor) q.set("cursor", cursor);
    return q.toString();
  }

  /** @param {any} a */
  function row(a) {
    const result = a.success ? h("span", { class: "badge ok" }, "✓ delivered") : h("span", { class: "badge bad" }, "✗ failed");
    const code = a.statusCode === null ? (a.errorKind ?? "—") : String(a.statusCode);
    const open = disclosure(
      "",
      () => attemptDetail(ctx, ep, a, () => setTimeout(() => reload().catch(() => {}), 1500)),
      { className: "attempt-row" },
    );
    open.button.append(ago(a.timestamp), result, h("span", { class: "mono" }, code), h("span", { class: "num" }, ms(a.durationMs)), h("span", { class: "mono muted ellipsis" }, a.messageId));
    return h("li", { class: "attempt", "data-attempt-id": a.id, "data-success": String(a.success) }, open.button, open.region);
  }

  async function next() {
    const page = await ctx.call("GET", `${ctx.base}/endpoints/${encodeURIComponent(ep.id)}/attempts?${queryString()}`);
    list.append(...page.data.map(row));
    shown += page.data.length;
    cursor = page.nextCursor;
    more.hidden = !cursor;
    mount(status, shown === 0 ? "No attempts match." : `${shown} attempt${shown === 1 ? "" : "s"} shown${cursor ? "; older ones below" : ""}.`);
  }
  async function reload() {
    cursor = null;
    shown = 0;
    list.replaceChildren();
    await next();
  }
  more.addEventListener("click", () => busy(more, status, next));

  const form = h(
    "form",
    { class: "filters-form", "aria-label": "Filter the attempts" },
    h("label", { class: "check" }, failed, "Failed only"),
    field("Event type", eventType),
    field("Status code", statusCode),
    field("From", after),
    field("Until", before),
    h("div", { class: "action-group" }, apply, clear),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(apply, status, reload);
  });
  form.addEventListener("reset", () => setTimeout(() => busy(apply, status, reload), 0));

  const element = h("section", { class: "panel", "aria-labelledby": "log-title" }, h("h2", { id: "log-title" }, "Attempt log"), form, list, status, more);
  return { element, reload };
}
