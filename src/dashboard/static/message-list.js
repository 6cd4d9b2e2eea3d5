// @ts-check
// An application's recent messages, with each one's delivery status, filtered
// by delivery status and event type. The API filters by one exact event type:
// a pattern such as `order.*` is explained, and the catalog's types it matches
// are offered to pick from.

import { api, path, query } from "./api.js";
import { ago, count, h, link, mount } from "./dom.js";
import { isPattern, matchesEventType } from "./patterns.js";
import { pagedTable } from "./widgets.js";

const TONES = { succeeded: "ok", pending: "warn", failed: "bad", skipped: "muted" };
const ORDER = ["failed", "pending", "skipped", "succeeded"];

/** `✗ 1 · 2 pending · ✓ 3`: the message's deliveries by status, worst first. */
function deliverySummary(deliveries) {
  if (deliveries.length === 0) return h("span", { class: "muted" }, "no endpoint");
  const by = {};
  for (const d of deliveries) by[d.status] = (by[d.status] ?? 0) + 1;
  return h(
    "span",
    { class: "chips" },
    ORDER.filter((s) => by[s]).map((s) => h("span", { class: `badge ${TONES[s]}`, "data-delivery-status": s }, `${count(by[s])} ${s}`)),
  );
}

/**
 * @param {any} app
 * @param {string[]} catalog event-type names
 */
export function messageList(app, catalog) {
  catalog = [...catalog].sort();
  const status = h(
    "select",
    { "aria-label": "Delivery status", id: "msg-status" },
    [["", "any status"], ["pending", "pending"], ["succeeded", "succeeded"], ["failed", "failed"], ["skipped", "skipped"]].map(([v, label]) => h("option", { value: v }, label)),
  );
  const eventType = h("input", { type: "search", placeholder: "event type", "aria-label": "Event type", id: "msg-type", list: "msg-types", autocomplete: "off" });
  const help = h("div", { class: "filter-help", "aria-live": "polite" });
  const table = pagedTable({
    columns: [{ label: "When" }, { label: "Event type" }, { label: "Deliveries" }, { label: "Message", class: "wide-only" }, { label: "Idempotency key", class: "wide-only" }],
    load: (cursor) => {
      const type = eventType.value.trim();
      return api("GET", `${path("applications", app.id, "messages")}${query({ limit: 25, cursor, status: status.value, eventType: isPattern(type) ? "" : type })}`);
    },
    className: "clickable messages",
    empty: "No messages match.",
    row: (m) => {
      const href = link("apps", app.id, "messages", m.id);
      const cell = h("td", { class: "delivery-status" }, h("span", { class: "muted" }, "…"));
      api("GET", path("applications", app.id, "messages", m.id, "deliveries"))
        .then(({ data }) => mount(cell, deliverySummary(data)))
        .catch(() => mount(cell, h("span", { class: "muted" }, "?")));
      return h(
        "tr",
        { class: "message", "data-message-id": m.id, onclick: () => (location.hash = href) },
        h("td", null, ago(m.timestamp)),
        h("td", null, h("span", { class: "chip" }, m.eventType)),
        cell,
        h("td", { class: "wide-only" }, h("a", { href, class: "mono" }, m.id)),
        h("td", { class: "mono muted ellipsis wide-only" }, m.eventId ?? ""),
      );
    },
  });

  function explain() {
    const type = eventType.value.trim();
    if (!isPattern(type)) {
      mount(help);
      return true;
    }
    const hits = catalog.filter((t) => matchesEventType(type, t));
    mount(
      help,
      h(
        "div",
        { class: "notice info", id: "pattern-help" },
        h("code", null, type),
        " is a pattern, as endpoints subscribe with. The message log filters by one exact event type, so pick one: ",
        hits.length
          ? hits.map((t) =>
              h(
                "button",
                {
                  type: "button",
                  class: "chip-button",
                  onclick: () => {
                    eventType.value = t;
                    reload();
                  },
                },
                t,
              ),
            )
          : h("span", { class: "muted" }, "none in the catalog matches it (a * stands for exactly one segment)."),
      ),
    );
    return false;
  }
  const reload = () => {
    if (explain()) table.reload().catch(() => {});
  };
  status.addEventListener("change", reload);
  eventType.addEventListener("change", reload);
  return {
    element: h("div", null, h("div", { class: "filters" }, status, eventType, h("datalist", { id: "msg-types" }, catalog.map((n) => h("option", { value: n })))), help, table.element),
    next: () => table.next(),
  };
}
