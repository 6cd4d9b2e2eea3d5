// @ts-check
// #/apps/{app}/endpoints/new and #/apps/{app}/endpoints/{ep}/edit — create or
// change an endpoint, with the catalog in front of the operator: what each
// event pattern matches, and a warning for a name the catalog does not know.

import { api, path, query } from "../api.js";
import { h, link, mount } from "../dom.js";
import { copyButton, field } from "../forms.js";
import { isPattern, matchesEventType, splitList } from "../patterns.js";
import { busy } from "../widgets.js";

/** What the events field means against the catalog: one line per pattern. */
function explainEvents(patterns, catalog) {
  if (!patterns) return h("span", null, "Every event type (leave empty, or *).");
  return h(
    "ul",
    { class: "pattern-check" },
    patterns.map((p) => {
      const hits = catalog.filter((t) => matchesEventType(p, t));
      if (hits.length) return h("li", { class: "ok-text" }, h("code", null, p), ` → ${hits.slice(0, 8).join(", ")}${hits.length > 8 ? ` and ${hits.length - 8} more` : ""}`);
      return h(
        "li",
        { class: "warn-text", "data-unknown": p },
        h("code", null, p),
        isPattern(p)
          ? " matches no event type in the catalog (a * stands for exactly one segment: order.* matches order.created, not order.status.changed)."
          : " is not in the catalog: it will only match messages published with exactly that type.",
      );
    }),
  );
}

/** The filter box as JSON: empty is no filter; anything else must parse (the API checks the operators). */
function parseFilter(text) {
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`The payload filter is not JSON: ${err instanceof Error ? err.message : err}`);
  }
}

export async function renderEndpointForm(ctx, appRef, epId) {
  const app = await api("GET", path("applications", appRef));
  const editing = epId !== null && epId !== undefined;
  const base = path("applications", app.id, "endpoints");
  const [ep, types] = await Promise.all([editing ? api("GET", path("applications", app.id, "endpoints", epId)) : null, api("GET", `/event-types${query({ limit: 250 })}`)]);
  const catalog = types.data.map((t) => t.name).sort();
  ctx.crumbs([
    { label: "Applications", href: "#/" },
    { label: app.name, href: link("apps", app.id) },
    editing ? { label: "Endpoint", href: link("apps", app.id, "endpoints", ep.id) } : null,
    { label: editing ? "Edit" : "New endpoint" },
  ].filter(Boolean));

  const url = h("input", { id: "ep-url", type: "url", required: true, placeholder: "https://example.com/webhooks", value: ep?.url ?? "", autocomplete: "off" });
  const description = h("input", { id: "ep-description", type: "text", maxlength: 1024, value: ep?.description ?? "" });
  const events = h("input", { id: "ep-events", type: "text", list: "catalog-types", placeholder: "order.*, payment.succeeded", value: (ep?.events ?? []).join(", "), autocomplete: "off" });
  const channels = h("input", { id: "ep-channels", type: "text", placeholder: "none: every channel", value: (ep?.channels ?? []).join(", "), autocomplete: "off" });
  const rateLimit = h("input", { id: "ep-rate", type: "number", min: 1, max: 100000, placeholder: "unlimited", value: ep?.rateLimit ?? "" });
  const ordering = h(
    "select",
    { id: "ep-ordering" },
    h("option", { value: "none", selected: ep?.ordering !== "fifo" }, "Concurrent (fastest)"),
    h("option", { value: "fifo", selected: ep?.ordering === "fifo" }, "FIFO: one at a time, in publish order"),
  );
  const filter = h("textarea", { id: "ep-filter", rows: 4, class: "mono", spellcheck: "false", placeholder: '{"data.order.status": {"$in": ["paid", "shipped"]}}' });
  filter.value = ep?.filter ? JSON.stringify(ep.filter, null, 2) : "";
  const check = h("div", { class: "hint", id: "events-check", "aria-live": "polite" });
  const notices = h("div", { class: "notices" });
  const explain = () => mount(check, explainEvents(splitList(events.value), catalog));
  events.addEventListener("input", explain);
  explain();

  const chooser = h(
    "div",
    { class: "chips type-chooser" },
    catalog.slice(0, 60).map((name) =>
      h(
        "button",
        {
          type: "button",
          class: "chip-button",
          onclick: () => {
            const now = splitList(events.value) ?? [];
            if (!now.includes(name)) events.value = [...now, name].join(", ");
            explain();
          },
        },
        name,
      ),
    ),
  );

  const submit = h("button", { type: "submit", class: "primary", id: "ep-save" }, editing ? "Save" : "Create endpoint");
  const form = h(
    "form",
    { class: "panel form", id: "endpoint-form", novalidate: true },
    field("URL", url, "https:// in production; checked by the SSRF guard now and at every attempt."),
    field("Description", description),
    field("Event types", events, check),
    catalog.length ? h("details", { class: "catalog-picker" }, h("summary", null, `Pick from the catalog (${catalog.length})`), chooser) : null,
    field("Channels", channels, "Comma-separated; an endpoint with channels only receives messages sent on one of them."),
    field("Rate limit (requests per second)", rateLimit),
    field("Ordering", ordering, "FIFO holds every later message while one is retried (docs/delivery.md, FIFO endpoints)."),
    field("Payload filter (JSON, empty for none)", filter, "Mongo-style operators on dotted paths; a message that does not match creates no delivery."),
    h("datalist", { id: "catalog-types" }, catalog.map((n) => h("option", { value: n }))),
    h("div", { class: "form-actions" }, submit, h("a", { class: "button ghost", href: editing ? link("apps", app.id, "endpoints", ep.id) : link("apps", app.id) }, "Cancel")),
    notices,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, notices, async () => {
      const body = {
        url: url.value.trim(),
        description: description.value.trim(),
        events: splitList(events.value),
        channels: splitList(channels.value),
        rateLimit: rateLimit.value === "" ? null : Number(rateLimit.value),
        ordering: ordering.value,
        filter: parseFilter(filter.value),
      };
      if (!body.url) throw new Error("The URL is required.");
      const saved = editing ? await api("PATCH", path("applications", app.id, "endpoints", ep.id), body) : await api("POST", base, body);
      if (editing) {
        location.hash = link("apps", app.id, "endpoints", saved.id);
        return;
      }
      // The one answer that shows the signing secret in full: show it here, once.
      const code = h("code", { id: "new-secret" }, saved.secret);
      mount(
        form,
        h(
          "div",
          { class: "secret", role: "status" },
          h("div", null, h("strong", null, "Endpoint created. Its signing secret, shown in full once: copy it to the receiver now."), " (The endpoint page can reveal it again.)"),
          h("div", { class: "secret-row" }, code, copyButton(() => saved.secret, "Copy", code)),
          h("div", null, h("a", { class: "button primary", id: "open-new-endpoint", href: link("apps", app.id, "endpoints", saved.id) }, "Open the endpoint")),
        ),
      );
    });
  });
  ctx.show(h("div", { class: "title" }, h("h1", null, editing ? "Edit endpoint" : `New endpoint for ${app.name}`)), form);
  url.focus();
}
