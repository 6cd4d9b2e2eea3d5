// @ts-check
// #/catalog — the event catalog: every event type, grouped by its prefix
// (`order.created` under `order`), with its description, schema and examples;
// new types are added here, and old ones archived (or brought back).

import { api, path, query } from "../api.js";
import { h } from "../dom.js";
import { field, formToggle } from "../forms.js";
import { busy, section } from "../widgets.js";

/** Every page of a list (the catalog is small: a few pages at most). */
async function all(pathBase, includeArchived = false) {
  const out = [];
  let cursor = null;
  do {
    const page = await api("GET", `${pathBase}${query({ limit: 250, cursor, includeArchived: includeArchived ? "true" : "" })}`);
    out.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

function eventType(t, notices, reload) {
  const archive = h(
    "button",
    {
      type: "button",
      class: "small ghost",
      "data-archive": t.name,
      "aria-label": `${t.archived ? "Unarchive" : "Archive"} ${t.name}`,
      title: t.archived ? "List it again" : "Hide it from the catalog and mark it deprecated in the OpenAPI document; its messages are still accepted",
      onclick: (e) =>
        busy(e.currentTarget, notices, async () => {
          await api("PATCH", path("event-types", t.name), { archived: !t.archived });
          await reload();
        }),
    },
    t.archived ? "Unarchive" : "Archive",
  );
  return h(
    "article",
    { class: `event-type${t.archived ? " archived" : ""}`, id: `type-${t.name}`, "data-name": t.name },
    h("h3", { class: "mono" }, t.name, t.archived ? h("span", { class: "badge muted" }, "archived") : null, archive),
    t.description ? h("p", null, t.description) : h("p", { class: "muted" }, "No description."),
    t.schema ? h("details", null, h("summary", null, "Schema"), h("pre", { class: "body" }, JSON.stringify(t.schema, null, 2))) : h("div", { class: "muted small" }, "No schema: any JSON payload is accepted."),
    t.examples?.length
      ? h("details", null, h("summary", null, `Example${t.examples.length > 1 ? "s" : ""} (${t.examples.length})`), t.examples.map((x) => h("pre", { class: "body" }, JSON.stringify(x, null, 2))))
      : null,
  );
}

function newTypeForm(notices, onCreated) {
  const name = h("input", { id: "type-name", type: "text", required: true, maxlength: 256, placeholder: "order.refunded", autocomplete: "off" });
  const description = h("input", { id: "type-description", type: "text", maxlength: 1024 });
  const schema = h("textarea", { id: "type-schema", rows: 5, spellcheck: "false", placeholder: '{"type": "object", "required": ["id"]}' });
  const submit = h("button", { type: "submit", class: "primary", id: "type-create" }, "Add event type");
  const form = h(
    "form",
    { class: "form inline-form", id: "new-type", hidden: true },
    field("Name", name, "Letters, digits, _ . -; the part before the first dot groups it."),
    field("Description", description),
    field("Payload schema (JSON Schema, optional)", schema, "Publishes of this type must match it."),
    h("div", { class: "form-actions" }, submit),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, notices, async () => {
      let parsed = null;
      if (schema.value.trim()) {
        try {
          parsed = JSON.parse(schema.value);
        } catch (err) {
          throw new Error(`The schema is not JSON: ${err.message}`);
        }
      }
      await api("POST", "/event-types", { name: name.value.trim(), description: description.value.trim(), ...(parsed ? { schema: parsed } : {}) });
      onCreated();
    });
  });
  const toggle = formToggle(form, "new-type-toggle", "New event type", name);
  return { toggle, form };
}

export async function renderCatalog(ctx) {
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: "Event catalog" }]);
  const notices = h("div", { class: "notices", "aria-live": "polite" });
  const groupsBox = h("div", { class: "catalog" });
  const heading = h("div", { class: "title spread" });
  const { toggle, form } = newTypeForm(notices, () => draw());

  async function draw() {
    const types = await all("/event-types", true);
    const groups = new Map();
    for (const t of types.sort((a, b) => a.name.localeCompare(b.name))) {
      const prefix = t.name.includes(".") ? t.name.slice(0, t.name.indexOf(".")) : t.name;
      if (!groups.has(prefix)) groups.set(prefix, []);
      groups.get(prefix).push(t);
    }
    heading.replaceChildren(h("h1", null, "Event catalog", " ", h("span", { class: "chip" }, `${types.filter((t) => !t.archived).length} types`)), toggle);
    groupsBox.replaceChildren(
      ...(types.length
        ? [...groups].map(([prefix, list]) =>
            h("section", { class: "panel catalog-group", "data-prefix": prefix }, h("h2", null, `${prefix}.*`), list.map((t) => eventType(t, notices, draw))),
          )
        : [section("Event types", h("p", { class: "muted" }, "The catalog is empty: add the event types your producers publish with New event type."))]),
    );
  }

  await draw();
  ctx.show(
    heading,
    h("p", { class: "muted lead" }, "The event types producers publish. Endpoints subscribe with names or patterns: order.* is every order event (one segment), * is everything."),
    form,
    notices,
    groupsBox,
  );
}
