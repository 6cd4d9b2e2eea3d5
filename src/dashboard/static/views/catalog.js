// @ts-check
// #/catalog — the event catalog: every event type, grouped by its prefix
// (`order.created` under `order`), with its description, schema and examples.

import { api, query } from "../api.js";
import { h } from "../dom.js";
import { section } from "../widgets.js";

/** Every page of a list (the catalog is small: a few pages at most). */
async function all(pathBase) {
  const out = [];
  let cursor = null;
  do {
    const page = await api("GET", `${pathBase}${query({ limit: 250, cursor })}`);
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

function eventType(t) {
  return h(
    "article",
    { class: "event-type", id: `type-${t.name}`, "data-name": t.name },
    h("h3", { class: "mono" }, t.name, t.archived ? h("span", { class: "badge muted" }, "archived") : null),
    t.description ? h("p", null, t.description) : h("p", { class: "muted" }, "No description."),
    t.schema ? h("details", null, h("summary", null, "Schema"), h("pre", { class: "body" }, JSON.stringify(t.schema, null, 2))) : h("div", { class: "muted small" }, "No schema: any JSON payload is accepted."),
    t.examples?.length
      ? h("details", null, h("summary", null, `Example${t.examples.length > 1 ? "s" : ""} (${t.examples.length})`), t.examples.map((x) => h("pre", { class: "body" }, JSON.stringify(x, null, 2))))
      : null,
  );
}

export async function renderCatalog(ctx) {
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: "Event catalog" }]);
  const types = await all("/event-types");
  const groups = new Map();
  for (const t of types.sort((a, b) => a.name.localeCompare(b.name))) {
    const prefix = t.name.includes(".") ? t.name.slice(0, t.name.indexOf(".")) : t.name;
    if (!groups.has(prefix)) groups.set(prefix, []);
    groups.get(prefix).push(t);
  }
  ctx.show(
    h("div", { class: "title" }, h("h1", null, "Event catalog"), h("span", { class: "chip" }, `${types.length} types`)),
    h("p", { class: "muted lead" }, "The event types producers publish. Endpoints subscribe with names or patterns: order.* is every order event (one segment), * is everything."),
    types.length
      ? [...groups].map(([prefix, list]) => h("section", { class: "panel catalog-group", "data-prefix": prefix }, h("h2", null, `${prefix}.*`), list.map(eventType)))
      : section("Event types", h("p", { class: "muted" }, "The catalog is empty: add event types with POST /api/v1/event-types.")),
  );
}
