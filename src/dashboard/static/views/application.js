// #/apps/{app} — an application's endpoints (health first) and its recent messages.

import { api, path, query } from "../api.js";
import { sparkline } from "../charts.js";
import { ago, count, h, link, ms, mount, percent } from "../dom.js";
import { chips, endpointBadge, pagedTable, section, tile, tiles } from "../widgets.js";

/** Health figures are fetched for at most this many endpoint cards. */
const STATS_FOR = 50;

function endpointCard(appId, ep, stats) {
  const health = h("div", { class: "card-stats" }, h("span", { class: "muted" }, "…"));
  if (stats) {
    stats
      .then((st) =>
        mount(
          health,
          h("div", { class: "card-figure" }, h("strong", null, percent(st.successRate)), h("span", { class: "muted" }, ` of ${count(st.attempts)} · p50 ${ms(st.latency.p50)}`)),
          sparkline(st.series),
        ),
      )
      .catch(() => mount(health));
  } else {
    mount(health);
  }
  return h(
    "a",
    { class: `card endpoint-card ${ep.status}`, href: link("apps", appId, "endpoints", ep.id), "data-endpoint-id": ep.id },
    h("div", { class: "card-head" }, endpointBadge(ep), h("span", { class: "mono muted small" }, ep.id)),
    h("div", { class: "url mono" }, ep.url),
    ep.description ? h("div", { class: "muted" }, ep.description) : null,
    chips(ep.events),
    health,
  );
}

export async function renderApplication(ctx, appRef) {
  const app = await api("GET", path("applications", appRef));
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: app.name }]);

  const endpoints = await api("GET", `${path("applications", app.id, "endpoints")}${query({ limit: 250 })}`);
  const list = endpoints.data;
  const disabled = list.filter((e) => e.status === "disabled").length;
  const more = endpoints.nextCursor ? "+" : "";

  const statsOf = (ep, i) => (i < STATS_FOR ? api("GET", path("applications", app.id, "endpoints", ep.id, "stats")) : null);

  const filter = h(
    "select",
    { "aria-label": "Delivery status" },
    [["", "any status"], ["pending", "pending"], ["succeeded", "succeeded"], ["failed", "failed"], ["skipped", "skipped"]].map(([v, label]) => h("option", { value: v }, label)),
  );
  const eventFilter = h("input", { type: "search", placeholder: "event type", "aria-label": "Event type" });
  const messages = pagedTable({
    columns: [{ label: "When" }, { label: "Event type" }, { label: "Message" }, { label: "Idempotency key" }],
    load: (cursor) =>
      api("GET", `${path("applications", app.id, "messages")}${query({ limit: 50, cursor, status: filter.value, eventType: eventFilter.value.trim() })}`),
    className: "clickable",
    empty: "No messages match.",
    row: (m) => {
      const href = link("apps", app.id, "messages", m.id);
      return h(
        "tr",
        { class: "message", onclick: () => (location.hash = href) },
        h("td", null, ago(m.timestamp)),
        h("td", null, h("span", { class: "chip" }, m.eventType)),
        h("td", null, h("a", { href, class: "mono" }, m.id)),
        h("td", { class: "mono muted ellipsis" }, m.eventId ?? ""),
      );
    },
  });
  const reload = () => messages.reload().catch(() => {});
  filter.addEventListener("change", reload);
  eventFilter.addEventListener("change", reload);
  await messages.next();

  ctx.show(
    h("div", { class: "title" }, h("h1", null, app.name), app.uid ? h("span", { class: "chip" }, app.uid) : null, h("span", { class: "mono muted small" }, app.id)),
    tiles(
      tile("Endpoints", `${count(list.length)}${more}`),
      tile("Active", count(list.length - disabled), null, "ok"),
      tile("Disabled", count(disabled), disabled ? "they receive nothing until enabled" : null, disabled ? "bad" : null),
    ),
    section(
      "Endpoints",
      list.length
        ? h("div", { class: "cards" }, list.map((ep, i) => endpointCard(app.id, ep, statsOf(ep, i))))
        : h("p", { class: "muted" }, "No endpoints yet: add one with POST /api/v1/applications/{app}/endpoints."),
    ),
    section("Recent messages", h("div", { class: "filters" }, filter, eventFilter), messages.element),
  );
}
