// @ts-check
// #/ — the start page: what needs attention (one click to the triage list),
// every application (newest first, with a form for a new one), and the
// operational events of all of them.

import { api, query } from "../api.js";
import { ago, count, h, link, mount } from "../dom.js";
import { field, formToggle } from "../forms.js";
import { busy, operationalEvents, pagedTable, section } from "../widgets.js";

/** The start page's way into the triage list, with how much is waiting there. */
function triageBanner(page) {
  const disabled = page.data.filter((e) => e.state === "disabled").length;
  const failing = page.data.length - disabled;
  const plus = page.nextCursor ? "+" : "";
  if (page.data.length === 0) {
    return h("a", { class: "triage-banner ok", id: "triage-link", href: "#/triage" }, h("strong", null, "Nothing needs you"), h("span", null, "every endpoint is active and its newest attempt succeeded · open triage →"));
  }
  return h(
    "a",
    { class: `triage-banner ${disabled ? "bad" : "warn"}`, id: "triage-link", href: "#/triage" },
    h("strong", null, `${count(page.data.length)}${plus} endpoint${page.data.length === 1 ? "" : "s"} need${page.data.length === 1 ? "s" : ""} attention`),
    h("span", null, `${count(disabled)} disabled · ${count(failing)} failing · open triage →`),
  );
}

function newApplicationForm(onCreated) {
  const name = h("input", { id: "app-name", type: "text", required: true, maxlength: 256, autocomplete: "off" });
  const uid = h("input", { id: "app-uid", type: "text", maxlength: 256, placeholder: "optional, e.g. petstore", autocomplete: "off", pattern: "[A-Za-z0-9_.\\-]+" });
  const notices = h("div", { class: "notices" });
  const submit = h("button", { type: "submit", class: "primary", id: "app-create" }, "Create application");
  const form = h(
    "form",
    { class: "form inline-form", id: "new-app", hidden: true },
    field("Name", name),
    field("uid", uid, "Your own id for it (letters, digits, _ . -); usable wherever an app_ id is."),
    h("div", { class: "form-actions" }, submit),
    notices,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, notices, async () => {
      if (!name.value.trim()) throw new Error("The name is required.");
      const body = { name: name.value.trim(), ...(uid.value.trim() ? { uid: uid.value.trim() } : {}) };
      const app = await api("POST", "/applications", body);
      onCreated(app);
    });
  });
  const toggle = formToggle(form, "new-app-toggle", "New application", name);
  return { toggle, form };
}

export async function renderApplications(ctx) {
  ctx.crumbs([{ label: "Applications" }]);
  const names = new Map();
  const triage = await api("GET", `/endpoints/triage${query({ limit: 250 })}`);
  /** Per application: how many of its endpoints are on the triage list. */
  const trouble = new Map();
  for (const e of triage.data) {
    const t = trouble.get(e.application.id) ?? { disabled: 0, failing: 0 };
    t[e.state] += 1;
    trouble.set(e.application.id, t);
  }
  const health = (appId) => {
    const t = trouble.get(appId);
    if (!t) return h("span", { class: "muted small" }, triage.nextCursor ? "" : "ok");
    return h(
      "a",
      { href: "#/triage", class: "chips", onclick: (e) => e.stopPropagation() },
      t.disabled ? h("span", { class: "badge bad" }, `${t.disabled} disabled`) : null,
      t.failing ? h("span", { class: "badge warn" }, `${t.failing} failing`) : null,
    );
  };
  const table = pagedTable({
    columns: [{ label: "Name" }, { label: "uid" }, { label: "Attention" }, { label: "Id", class: "wide-only" }, { label: "Created" }],
    load: async (cursor) => {
      const page = await api("GET", `/applications${query({ limit: 50, cursor })}`);
      for (const a of page.data) names.set(a.id, a.name);
      return page;
    },
    className: "clickable",
    empty: h(
      "div",
      { class: "empty" },
      h("p", null, "No applications yet. An application groups the endpoints and messages of one of your customers (or of one system): create one with New application."),
    ),
    row: (app) => {
      const href = link("apps", app.id);
      return h(
        "tr",
        { class: "application", onclick: () => (location.hash = href) },
        h("td", null, h("a", { href }, app.name)),
        h("td", { class: "mono" }, app.uid ?? ""),
        h("td", { class: "attention" }, health(app.id)),
        h("td", { class: "mono muted wide-only" }, app.id),
        h("td", null, ago(app.createdAt)),
      );
    },
  });
  const { toggle, form } = newApplicationForm((app) => (location.hash = link("apps", app.id)));
  const banner = h("div");
  await table.next();
  mount(banner, triageBanner(triage));
  const events = operationalEvents(api, query, {}, { appName: (id) => names.get(id) ?? id });
  await events.next();
  ctx.show(
    h("div", { class: "title spread" }, h("h1", null, "Applications"), toggle),
    form,
    banner,
    section("All applications", table.element),
    section("Operational events", h("p", { class: "small" }, h("a", { href: "#/events" }, "Filter by kind and application →")), events.element),
  );
}
