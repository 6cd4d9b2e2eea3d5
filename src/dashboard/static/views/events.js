// @ts-check
// #/events — Herald's operational events of every application, filterable by
// kind and application; each id links to what it is about.

import { api, query } from "../api.js";
import { h } from "../dom.js";
import { operationalEvents, section } from "../widgets.js";

const KINDS = [
  "endpoint.created",
  "endpoint.updated",
  "endpoint.deleted",
  "endpoint.disabled",
  "endpoint.enabled",
  "message.attempt.failing",
  "message.attempt.exhausted",
  "message.attempt.recovered",
];

export async function renderEvents(ctx) {
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: "Operational events" }]);
  const apps = await api("GET", `/applications${query({ limit: 250 })}`);
  const names = new Map(apps.data.map((a) => [a.id, a.name]));
  const kind = h("select", { id: "events-kind", "aria-label": "Kind" }, h("option", { value: "" }, "every kind"), KINDS.map((k) => h("option", { value: k }, k)));
  const app = h("select", { id: "events-app", "aria-label": "Application" }, h("option", { value: "" }, "every application"), apps.data.map((a) => h("option", { value: a.id }, a.name)));
  const holder = h("div");

  async function load() {
    const table = operationalEvents(api, query, { type: kind.value, app: app.value }, { appName: (id) => names.get(id) ?? id });
    await table.next();
    holder.replaceChildren(table.element);
  }
  const onChange = () => load().catch(() => {});
  kind.addEventListener("change", onChange);
  app.addEventListener("change", onChange);
  await load();
  ctx.show(
    h("div", { class: "title" }, h("h1", null, "Operational events")),
    h("p", { class: "muted lead" }, "What Herald tells the operational webhook: endpoints created, changed, disabled and enabled, and deliveries failing, exhausted or recovered."),
    section("Events", h("div", { class: "filters" }, kind, app), holder),
  );
}
