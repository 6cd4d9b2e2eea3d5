// @ts-check
// #/new and #/endpoints/{ep}/edit — an endpoint's URL, description and the
// event types it receives, chosen with the catalog in front of the customer:
// types grouped by prefix with their descriptions, each one's schema and
// example a click away, and a warning for a name the catalog does not know.

import { h, link, mount } from "/dashboard/dom.js";
import { busy, notify } from "/dashboard/widgets.js";
import { description, groupByPrefix, typeDetails, unknownPatterns } from "../catalog.js";
import { disclosure, field, uid } from "../ui.js";

/** @param {string} text */
const splitPatterns = (text) => text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);

/**
 * @param {any} ctx
 * @param {string | null} epId null: a new endpoint
 */
export async function renderEndpointForm(ctx, epId) {
  const [types, ep] = await Promise.all([ctx.catalog(), epId ? ctx.call("GET", `${ctx.base}/endpoints/${encodeURIComponent(epId)}`) : null]);
  const current = new Set(ep && !(ep.events.length === 1 && ep.events[0] === "*") ? ep.events : []);
  const everything = !ep || current.size === 0;

  const url = /** @type {HTMLInputElement} */ (h("input", { type: "url", name: "url", required: true, placeholder: "https://example.com/webhooks", autocomplete: "url", value: ep?.url ?? "" }));
  const desc = /** @type {HTMLInputElement} */ (h("input", { type: "text", name: "description", maxlength: 1024, value: ep?.description ?? "" }));
  const allRadio = /** @type {HTMLInputElement} */ (h("input", { type: "radio", name: "scope", value: "all", checked: everything }));
  const someRadio = /** @type {HTMLInputElement} */ (h("input", { type: "radio", name: "scope", value: "some", checked: !everything }));
  const warning = h("div", { class: "notice warn", role: "status", hidden: true, id: uid("warning") });
  const known = new Set(types.map((t) => t.name));

  /** @type {HTMLInputElement[]} */
  const boxes = [];
  const groups = [...groupByPrefix(types)].map(([prefix, list]) => {
    const wildcard = `${prefix}.*`;
    const groupBox = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", value: wildcard, checked: current.has(wildcard), "data-group": prefix }));
    current.delete(wildcard);
    boxes.push(groupBox);
    const items = list.map((t) => {
      const box = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", value: t.name, checked: current.has(t.name) || groupBox.checked, disabled: groupBox.checked }));
      current.delete(t.name);
      boxes.push(box);
      const details = disclosure("Schema and example", () => typeDetails(t), { ariaLabel: `Schema and example of ${t.name}` });
      return h(
        "li",
        { class: "type", "data-type": t.name },
        h("label", { class: "check" }, box, h("code", null, t.name)),
        h("div", { class: "type-body" }, description(t), details.button, details.region),
      );
    });
    groupBox.addEventListener("change", () => {
      for (const item of items) {
        const box = /** @type {HTMLInputElement} */ (item.querySelector("input"));
        // The whole group stands for each of its types; unchecking it leaves none of them chosen.
        box.disabled = groupBox.checked;
        box.checked = groupBox.checked;
      }
    });
    return h(
      "fieldset",
      { class: "type-group" },
      h("legend", null, prefix),
      h("label", { class: "check group" }, groupBox, `Every ${prefix} event (`, h("code", null, wildcard), ")"),
      h("ul", { class: "types" }, items),
    );
  });

  // What the catalog does not list (patterns, types not registered yet) stays editable as text.
  const other = /** @type {HTMLInputElement} */ (h("input", { type: "text", name: "other", value: [...current].join(", "), placeholder: "invoice.paid, order.*.v2" }));
  const picker = h(
    "div",
    { class: "picker", hidden: everything },
    types.length ? groups : h("p", { class: "muted" }, "The catalog lists no event types yet; name the ones you want below."),
    field("Other event types or patterns", other, "Comma-separated. * stands for one part of the name: order.* is every order event."),
    warning,
  );

  function chosen() {
    if (allRadio.checked) return null;
    const names = boxes.filter((b) => b.checked && !(b.disabled && !b.dataset.group)).map((b) => b.value);
    return [...new Set([...names, ...splitPatterns(other.value)])];
  }
  function check() {
    picker.hidden = allRadio.checked;
    const unknown = unknownPatterns(splitPatterns(other.value), types).filter((p) => !known.has(p));
    warning.hidden = unknown.length === 0;
    mount(warning, unknown.length ? ["Not in the catalog: ", unknown.join(", "), ". This endpoint receives them only if such events are ever sent; check the spelling."] : null);
  }
  for (const el of [allRadio, someRadio]) el.addEventListener("change", check);
  other.addEventListener("input", check);
  check();

  const fifo = /** @type {HTMLInputElement} */ (h("input", { type: "checkbox", name: "fifo", id: "ep-fifo", checked: ep?.ordering === "fifo" }));
  const filter = /** @type {HTMLTextAreaElement} */ (
    h("textarea", { name: "filter", id: "ep-filter", rows: 3, class: "mono", spellcheck: "false", placeholder: '{"data.order.status": "paid"}' })
  );
  filter.value = ep?.filter ? JSON.stringify(ep.filter, null, 2) : "";

  const notices = h("div", { class: "notices" });
  const secretBox = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, ep ? "Save changes" : "Add endpoint");
  const form = h(
    "form",
    { class: "panel stack", novalidate: true, "aria-label": ep ? `Edit endpoint ${ep.url}` : "Add an endpoint" },
    field("Endpoint URL", url, "Where Herald sends your webhooks: an https URL that answers 2xx within 5 seconds."),
    field("Description (optional)", desc),
    h(
      "fieldset",
      { class: "scope" },
      h("legend", null, "Event types"),
      h("label", { class: "check" }, allRadio, "Every event type, including ones added later"),
      h("label", { class: "check" }, someRadio, "Only the ones I choose"),
    ),
    picker,
    h(
      "fieldset",
      { class: "scope" },
      h("legend", null, "Delivery"),
      h("label", { class: "check" }, fifo, "In order: one event at a time, in the order they happened (a retry holds back the ones after it)"),
      field("Only events whose content matches (JSON filter, optional)", filter, 'Dotted paths into the event, e.g. {"data.order.total": {"$gte": 100}}.'),
    ),
    notices,
    h("div", { class: "action-group" }, submit, h("a", { href: ep ? link("endpoints", ep.id) : "#/", class: "button ghost" }, "Cancel")),
    secretBox,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    busy(submit, notices, async () => {
      if (!url.value.trim()) throw new Error("Enter the endpoint's URL.");
      const events = chosen();
      if (events && events.length === 0) throw new Error("Choose at least one event type, or every event type.");
      let parsed = null;
      if (filter.value.trim() !== "") {
        try {
          parsed = JSON.parse(filter.value);
        } catch {
          throw new Error("The filter is not valid JSON.");
        }
      }
      const body = { url: url.value.trim(), description: desc.value, events: events ?? ["*"], ordering: fifo.checked ? "fifo" : "none", filter: parsed };
      if (ep) {
        await ctx.call("PATCH", `${ctx.base}/endpoints/${encodeURIComponent(ep.id)}`, body);
        ctx.go(link("endpoints", ep.id));
        return;
      }
      const created = await ctx.call("POST", `${ctx.base}/endpoints`, body);
      submit.disabled = true;
      mount(
        secretBox,
        h(
          "div",
          { class: "secret", role: "status" },
          h("strong", null, "Endpoint added."),
          " Its signing secret verifies that webhooks come from us; you can show it again on the endpoint's page.",
          h("div", { class: "secret-row" }, h("code", { id: "new-secret" }, created.secret)),
          h("a", { href: link("endpoints", created.id), class: "button primary", id: "open-created" }, "Open the endpoint"),
        ),
      );
      notify(notices, "ok", "Endpoint added.");
    });
  });
  return h("div", { class: "stack" }, h("p", null, h("a", { href: ep ? link("endpoints", ep.id) : "#/", class: "back" }, "← Back")), h("h1", null, ep ? "Edit endpoint" : "Add an endpoint"), form);
}
