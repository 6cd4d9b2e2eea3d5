// @ts-check
// #/ — the application's endpoints, each a card that opens it, and the way to add one.

import { h, link } from "/dashboard/dom.js";
import { chips, endpointBadge } from "/dashboard/widgets.js";

/** @param {any} ctx */
export async function renderEndpoints(ctx) {
  /** @type {any[]} */
  const endpoints = [];
  let cursor = null;
  do {
    const page = await ctx.call("GET", `${ctx.base}/endpoints?limit=250${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    endpoints.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);

  const cards = endpoints.map((ep) =>
    h(
      "li",
      { class: `ep-card${ep.status === "active" ? "" : " disabled"}`, "data-endpoint-id": ep.id },
      h("a", { href: link("endpoints", ep.id), class: "ep-link", "aria-label": `Open endpoint ${ep.url}` }, h("span", { class: "mono url" }, ep.url)),
      h("div", { class: "ep-meta" }, endpointBadge(ep), chips(ep.events)),
      ep.description ? h("div", { class: "muted small" }, ep.description) : null,
    ),
  );
  return h(
    "div",
    { class: "stack" },
    h("div", { class: "title-row" }, h("h1", null, "Endpoints"), h("a", { href: "#/new", class: "button primary", id: "add-endpoint" }, "Add endpoint")),
    endpoints.length
      ? h("ul", { class: "ep-list", "aria-label": "Your endpoints" }, cards)
      : h("section", { class: "panel empty" }, h("p", null, "No endpoints yet. Add the URL where you want to receive webhooks.")),
  );
}
