// #/ — every application, newest first.

import { api, query } from "../api.js";
import { ago, h, link } from "../dom.js";
import { operationalEvents, pagedTable, section } from "../widgets.js";

export async function renderApplications(ctx) {
  ctx.crumbs([{ label: "Applications" }]);
  const table = pagedTable({
    columns: [{ label: "Name" }, { label: "uid" }, { label: "Id" }, { label: "Created" }],
    load: (cursor) => api("GET", `/applications${query({ limit: 50, cursor })}`),
    className: "clickable",
    empty: h(
      "div",
      { class: "empty" },
      h("p", null, "No applications yet. An application groups the endpoints and messages of one of your customers (or of one system)."),
      h("pre", { class: "body" }, 'curl -X POST http://HOST/api/v1/applications \\\n  -H "Authorization: Bearer $HERALD_API_KEY" \\\n  -H "content-type: application/json" \\\n  -d \'{"name": "Pet Store", "uid": "petstore"}\''),
    ),
    row: (app) => {
      const href = link("apps", app.id);
      return h(
        "tr",
        { class: "application", onclick: () => (location.hash = href) },
        h("td", null, h("a", { href }, app.name)),
        h("td", { class: "mono" }, app.uid ?? ""),
        h("td", { class: "mono muted" }, app.id),
        h("td", null, ago(app.createdAt)),
      );
    },
  });
  const events = operationalEvents(api, query, {});
  await Promise.all([table.next(), events.next()]);
  ctx.show(h("h1", null, "Applications"), section("All applications", table.element), section("Operational events", events.element));
}
