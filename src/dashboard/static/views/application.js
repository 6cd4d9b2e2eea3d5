// @ts-check
// #/apps/{app} — an application: its endpoints as health-coloured cards, its
// write actions (edit, delete, portal link, new endpoint) and its recent
// messages with their delivery status.

import { api, path, query } from "../api.js";
import { applicationActions } from "../app-settings.js";
import { sparkline } from "../charts.js";
import { count, h, link, ms, mount, percent } from "../dom.js";
import { HEALTH_MEANING, healthOf } from "../health.js";
import { messageList } from "../message-list.js";
import { chips, endpointBadge, section, tile, tiles } from "../widgets.js";

/** Health figures are fetched for at most this many endpoint cards. */
const STATS_FOR = 50;

function setHealth(card, tone) {
  for (const c of [...card.classList]) if (c.startsWith("health-")) card.classList.remove(c);
  card.classList.add(`health-${tone}`);
  card.dataset.health = tone;
  card.title = HEALTH_MEANING[tone];
}

function endpointCard(appId, ep, stats) {
  const health = h("div", { class: "card-stats" }, h("span", { class: "muted" }, "…"));
  const card = h(
    "a",
    { class: `card endpoint-card ${ep.status}`, href: link("apps", appId, "endpoints", ep.id), "data-endpoint-id": ep.id },
    h("div", { class: "card-head" }, endpointBadge(ep), h("span", { class: "mono muted small ellipsis" }, ep.id)),
    h("div", { class: "url mono" }, ep.url),
    ep.description ? h("div", { class: "muted" }, ep.description) : null,
    chips(ep.events ?? ["*"]),
    health,
  );
  setHealth(card, ep.status === "disabled" ? "bad" : "idle");
  if (!stats) {
    mount(health);
    return card;
  }
  stats
    .then((st) => {
      const rate = st.attempts === 0 ? null : st.succeeded / st.attempts;
      const tone = healthOf(rate, ep.status);
      setHealth(card, tone);
      const backlog = st.deliveries.pending + st.deliveries.skipped;
      mount(
        health,
        h(
          "div",
          { class: "card-figure" },
          h("strong", { class: `rate tone-${tone}` }, percent(rate)),
          h("span", { class: "muted" }, ` of ${count(st.attempts)} · p50 ${ms(st.latency.p50)}`),
          backlog ? h("div", { class: "small" }, `${count(st.deliveries.pending)} pending · ${count(st.deliveries.skipped)} skipped`) : null,
        ),
        sparkline(st.series),
      );
    })
    .catch(() => mount(health));
  return card;
}

export async function renderApplication(ctx, appRef) {
  let app = await api("GET", path("applications", appRef));
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: app.name }]);

  const [endpoints, types] = await Promise.all([
    api("GET", `${path("applications", app.id, "endpoints")}${query({ limit: 250 })}`),
    api("GET", `/event-types${query({ limit: 250 })}`),
  ]);
  const list = endpoints.data;
  const disabled = list.filter((e) => e.status === "disabled").length;
  const more = endpoints.nextCursor ? "+" : "";
  const statsOf = (ep, i) => (i < STATS_FOR ? api("GET", path("applications", app.id, "endpoints", ep.id, "stats")) : null);

  const heading = h("div", { class: "title" });
  const drawHeading = () =>
    mount(heading, h("h1", null, app.name), app.uid ? h("span", { class: "chip" }, app.uid) : null, h("span", { class: "mono muted small" }, app.id));
  drawHeading();
  const actions = applicationActions(app, {
    onChanged: (changed) => {
      app = changed;
      drawHeading();
      actions.form.hidden = true;
      actions.say("ok", "Saved.");
    },
    onDeleted: () => {
      location.hash = "#/";
    },
  });

  const messages = messageList(app, types.data.map((t) => t.name));
  await messages.next();

  ctx.show(
    heading,
    h("section", { class: "panel" }, actions.buttons, actions.form, actions.portalBox, actions.notices),
    tiles(
      tile("Endpoints", `${count(list.length)}${more}`),
      tile("Active", count(list.length - disabled), null, "ok"),
      tile("Disabled", count(disabled), disabled ? "they receive nothing until enabled" : null, disabled ? "bad" : null),
    ),
    section(
      "Endpoints",
      h("div", { class: "section-actions" }, h("a", { class: "button primary", id: "new-endpoint", href: link("apps", app.id, "endpoints", "new") }, "New endpoint")),
      list.length
        ? h("div", { class: "cards" }, list.map((ep, i) => endpointCard(app.id, ep, statsOf(ep, i))))
        : h("p", { class: "muted" }, "No endpoints yet: add one with New endpoint."),
    ),
    section("Recent messages", messages.element),
  );
}
