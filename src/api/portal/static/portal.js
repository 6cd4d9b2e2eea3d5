// @ts-check
// The consumer portal's entry point: checks the link, themes the page and
// routes between its views. Routes: #/ (endpoints), #/new (add one),
// #/endpoints/{ep} (one endpoint: secret, actions, attempt log),
// #/endpoints/{ep}/edit. Everything shown is built with the DOM (dom.js): no
// HTML is ever made from data.

import { h, mount } from "/dashboard/dom.js";
import { loadCatalog } from "./catalog.js";
import { apiClient, claims, takeToken } from "./session.js";
import { applyTheme } from "./theme.js";
import { renderEndpoint } from "./views/endpoint.js";
import { renderEndpointForm } from "./views/endpoint-form.js";
import { renderEndpoints } from "./views/endpoints.js";
import { renderLinkProblem } from "./views/link-problem.js";

const main = /** @type {HTMLElement} */ (document.getElementById("main"));

/** @param {"missing" | "invalid" | "expired"} why */
function refuse(why) {
  /** @type {HTMLElement} */ (document.getElementById("topbar")).hidden = true;
  mount(main, renderLinkProblem(why));
}

async function start() {
  const token = takeToken();
  if (!token) return refuse("missing");
  const claim = claims(token);
  const wanted = new URLSearchParams(location.search).get("app");
  if (!claim) return refuse("invalid");
  if (claim.exp * 1000 <= Date.now()) return refuse("expired");

  let expired = false;
  const call = apiClient(token, () => {
    expired = true;
    refuse(claim.exp * 1000 <= Date.now() ? "expired" : "invalid");
  });
  /** @type {any} */
  let app;
  try {
    app = await call("GET", `/applications/${encodeURIComponent(claim.app)}`);
  } catch {
    if (!expired) refuse("invalid");
    return;
  }
  // The page's CSP (frame-ancestors) is the one of `?app=` (its id or uid): it shows only that application.
  if (wanted !== null && wanted !== app.id && wanted !== app.uid) return refuse("invalid");
  applyTheme(app);

  /** @type {Promise<import("./catalog.js").EventType[]> | null} */
  let catalog = null;
  let generation = 0;
  const ctx = {
    call,
    app,
    base: `/applications/${encodeURIComponent(app.id)}`,
    catalog: () => (catalog ??= loadCatalog(call).catch(() => [])),
    /** Whether the view that asked is still the one shown. */
    alive: (/** @type {number} */ g) => g === generation && !expired,
    /** @param {string} hash */
    go: (hash) => {
      location.hash = hash;
    },
    /** Shows the current view again, with fresh data. */
    refresh: () => route(),
  };

  async function route() {
    if (expired) return;
    const g = ++generation;
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    mount(main, h("p", { class: "loading" }, "Loading…"));
    try {
      /** @type {Node} */
      let view;
      if (parts[0] === "new") view = await renderEndpointForm(ctx, null);
      else if (parts[0] === "endpoints" && parts[1] && parts[2] === "edit") view = await renderEndpointForm(ctx, parts[1]);
      else if (parts[0] === "endpoints" && parts[1]) view = await renderEndpoint(ctx, parts[1], g);
      else view = await renderEndpoints(ctx);
      if (g !== generation || expired) return;
      mount(main, view);
      const heading = main.querySelector("h1");
      if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: true });
      }
    } catch (err) {
      if (g !== generation || expired) return;
      mount(main, h("div", { class: "notice bad", role: "alert" }, /** @type {Error} */ (err).message || String(err)), h("p", null, h("a", { href: "#/" }, "Back to your endpoints")));
    }
  }
  addEventListener("hashchange", route);
  await route();
}

start();
