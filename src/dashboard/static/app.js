// @ts-check
// The dashboard's entry point: sign-in, the hash router and the page frame.
// Routes: #/ (applications), #/triage, #/events, #/catalog, #/apps/{app},
// #/apps/{app}/endpoints/new, #/apps/{app}/endpoints/{ep}(/edit),
// #/apps/{app}/messages/{msg}.

import { ApiError, api, session, whenUnauthorized } from "./api.js";
import { h, mount } from "./dom.js";
import { renderApplication } from "./views/application.js";
import { renderApplications } from "./views/applications.js";
import { renderCatalog } from "./views/catalog.js";
import { renderEndpoint } from "./views/endpoint.js";
import { renderEndpointForm } from "./views/endpoint-form.js";
import { renderEvents } from "./views/events.js";
import { renderMessage } from "./views/message.js";
import { renderTriage } from "./views/triage.js";

const main = document.getElementById("main");
const crumbs = document.getElementById("crumbs");
const signOutButton = document.getElementById("signout");
const sections = document.getElementById("sections");

let generation = 0;
let leaving = [];

function signInForm(problem) {
  signOutButton.hidden = true;
  sections.hidden = true;
  mount(crumbs);
  const input = h("input", { type: "password", id: "key", name: "key", autocomplete: "off", spellcheck: "false", placeholder: "hk_…", required: true });
  const error = h("div", { class: "signin-error", role: "alert" }, problem ?? "");
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { class: "signin", id: "signin" },
    h("h1", null, "Sign in to Herald"),
    h("label", { for: "key" }, "Admin API key"),
    input,
    button,
    error,
    h(
      "p",
      { class: "muted" },
      "Herald prints the key once, when it first starts (or uses HERALD_API_KEY). It stays in this tab only (session storage) and is sent as a Bearer token to this server's /api/v1.",
    ),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    session.signIn(key);
    try {
      await api("GET", "/applications?limit=1", undefined, { trying: true });
      route();
    } catch (err) {
      session.signOut();
      mount(error, err instanceof ApiError && err.status === 401 ? "That key was not accepted." : `Could not reach Herald: ${err.message}`);
      button.disabled = false;
      input.focus();
    }
  });
  mount(main, form);
  input.focus();
}

whenUnauthorized(() => {
  session.signOut();
  generation++;
  signInForm("Your key is no longer accepted; sign in again.");
});

signOutButton.addEventListener("click", () => {
  session.signOut();
  location.hash = "#/";
  signInForm();
});

function setCrumbs(items) {
  mount(
    crumbs,
    items.map((item, i) => [i > 0 ? h("span", { class: "sep" }, "/") : null, item.href ? h("a", { href: item.href }, item.label) : h("span", null, item.label)]),
  );
}

const ROUTES = [
  { pattern: [], view: renderApplications },
  { pattern: ["triage"], view: renderTriage },
  { pattern: ["events"], view: renderEvents },
  { pattern: ["catalog"], view: renderCatalog },
  { pattern: ["apps", ":app"], view: renderApplication },
  { pattern: ["apps", ":app", "endpoints", "new"], view: (ctx, app) => renderEndpointForm(ctx, app, null) },
  { pattern: ["apps", ":app", "endpoints", ":ep", "edit"], view: renderEndpointForm },
  { pattern: ["apps", ":app", "endpoints", ":ep"], view: renderEndpoint },
  { pattern: ["apps", ":app", "messages", ":msg"], view: renderMessage },
];

function match(segments) {
  for (const r of ROUTES) {
    if (r.pattern.length !== segments.length) continue;
    const params = [];
    if (r.pattern.every((p, i) => (p.startsWith(":") ? params.push(segments[i]) > 0 : p === segments[i]))) return { view: r.view, params };
  }
  return null;
}

async function route() {
  for (const fn of leaving) fn();
  leaving = [];
  const mine = ++generation;
  if (!session.key) return signInForm();
  signOutButton.hidden = false;
  sections.hidden = false;
  for (const a of sections.querySelectorAll("a")) a.classList.toggle("current", location.hash.startsWith(a.getAttribute("href") ?? "-"));

  let segments;
  try {
    segments = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    segments = ["?"];
  }
  const found = match(segments);
  if (!found) {
    setCrumbs([{ label: "Applications", href: "#/" }]);
    mount(main, h("div", { class: "notice bad" }, "There is no such page here."));
    return;
  }
  mount(main, h("div", { class: "loading" }, "Loading…"));
  const ctx = {
    main,
    crumbs: setCrumbs,
    alive: () => mine === generation,
    onLeave: (fn) => leaving.push(fn),
    /** Mounts the view's content unless the user has moved on meanwhile. */
    show: (...content) => {
      if (mine === generation) mount(main, content);
    },
  };
  try {
    await found.view(ctx, ...found.params);
  } catch (err) {
    if (mine !== generation || (err instanceof ApiError && err.status === 401)) return;
    const text = err instanceof ApiError && err.status === 404 ? `Not found: ${err.message}` : `Something went wrong: ${err.message}`;
    mount(main, h("div", { class: "notice bad", role: "alert" }, text));
  }
}

window.addEventListener("hashchange", route);
route();
