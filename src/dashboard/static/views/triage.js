// @ts-check
// #/triage — what needs an operator across every application: disabled and
// failing endpoints, worst first, with since when, the last error, the success
// rate, the backlog and the action to take (GET /endpoints/triage).

import { api, path, query } from "../api.js";
import { ago, count, h, link, mount, percent } from "../dom.js";
import { healthOf } from "../health.js";
import { busy, notify, section, tile, tiles } from "../widgets.js";

const REASON = { manual: "disabled by hand", failing: "disabled: retries used up", gone: "disabled: answered 410 Gone" };

/** Disabled first, then failing; within each, the oldest problem first. */
function order(a, b) {
  if (a.state !== b.state) return a.state === "disabled" ? -1 : 1;
  return (a.since ?? "").localeCompare(b.since ?? "");
}

function lastError(a) {
  if (!a) return h("span", { class: "muted" }, "no attempt yet");
  if (a.success) return h("span", { class: "muted" }, "last attempt succeeded");
  const what = [a.statusCode ? `HTTP ${a.statusCode}` : null, a.errorKind].filter(Boolean).join(" · ");
  return h("span", { class: "error-text" }, what, a.errorMessage ? h("span", { class: "muted" }, ` — ${a.errorMessage}`) : null);
}

/** Recover from the start of the trouble (or the last 24 hours when unknown). */
const recoverSince = (e) => e.failingSince ?? e.disabledAt ?? new Date(Date.now() - 86_400_000).toISOString();

function row(e, notices, reload) {
  const ep = e.endpoint;
  const base = path("applications", ep.appId, "endpoints", ep.id);
  const href = link("apps", ep.appId, "endpoints", ep.id);
  const label = `${e.application.name}: ${ep.url}`;
  const tone = healthOf(e.window.successRate, ep.status);
  const recoverSkipped = async () => {
    const { queued } = await api("POST", `${base}/recover`, { since: recoverSince(e) });
    notify(notices, "ok", `Queued ${count(queued)} deliveries again to `, h("span", { class: "mono" }, ep.url), ".");
    await reload();
  };
  const enable = h(
    "button",
    {
      type: "button",
      class: e.action === "enable" ? "primary small" : "small",
      "data-action": "enable",
      "aria-label": `Enable ${label}`,
      onclick: (ev) =>
        busy(ev.currentTarget, notices, async () => {
          await api("POST", `${base}/enable`);
          // Once enabled and healthy it leaves this list: offer the recovery of what it skipped here.
          const then = e.backlog.skipped
            ? h(
                "button",
                {
                  type: "button",
                  class: "small primary",
                  id: "recover-after-enable",
                  onclick: (ev2) => busy(ev2.currentTarget, notices, recoverSkipped),
                },
                `Recover ${count(e.backlog.skipped)} skipped`,
              )
            : null;
          notify(notices, "ok", "Enabled ", h("span", { class: "mono" }, ep.url), ". ", then);
          await reload();
        }),
    },
    "Enable",
  );
  const recover = h(
    "button",
    {
      type: "button",
      class: e.action === "recover" ? "primary small" : "small",
      "data-action": "recover",
      "aria-label": `Recover ${label}`,
      title: "Re-queues its failed and skipped deliveries since the trouble began",
      onclick: (ev) => busy(ev.currentTarget, notices, recoverSkipped),
    },
    "Recover",
  );
  const open = h("a", { class: `button small${e.action === "open" ? " primary" : ""}`, href, "data-action": "open", "aria-label": `Open ${label}` }, "Open");
  return h(
    "li",
    { class: `triage-item health-${tone}`, "data-endpoint-id": ep.id, "data-state": e.state, "data-action": e.action },
    h(
      "div",
      { class: "triage-main" },
      h(
        "div",
        { class: "triage-head" },
        h("span", { class: `badge ${e.state === "disabled" ? "bad" : "warn"}` }, e.state === "disabled" ? REASON[ep.disabledReason] ?? "disabled" : "failing"),
        h("a", { href: link("apps", ep.appId), class: "app-name" }, e.application.name),
      ),
      h("a", { href, class: "url mono" }, ep.url),
      h("div", { class: "triage-error" }, lastError(e.lastAttempt)),
      h(
        "div",
        { class: "triage-facts" },
        h("span", null, "since ", e.since ? ago(e.since) : h("span", { class: "muted" }, "—")),
        h("span", { class: `rate tone-${tone}`, title: "success rate, last 24 hours" }, percent(e.window.successRate), h("span", { class: "muted" }, ` of ${count(e.window.attempts)}`)),
        h("span", { title: "deliveries waiting or retrying" }, `${count(e.backlog.pending)} pending`),
        h("span", { title: "deliveries kept while it was disabled: Recover sends them" }, `${count(e.backlog.skipped)} skipped`),
      ),
    ),
    h("div", { class: "triage-actions" }, ep.status === "disabled" ? enable : null, ep.status === "active" && e.backlog.skipped > 0 ? recover : null, open),
  );
}

export async function renderTriage(ctx) {
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: "Triage" }]);
  const notices = h("div", { class: "notices", "aria-live": "polite" });
  const list = h("ol", { class: "triage" });
  const summary = h("div");
  const more = h("button", { type: "button", class: "ghost", hidden: true }, "Load more");
  /** @type {any[]} */
  let entries = [];
  let cursor = null;

  function draw() {
    entries.sort(order);
    const disabled = entries.filter((e) => e.state === "disabled").length;
    const skipped = entries.reduce((n, e) => n + e.backlog.skipped, 0);
    const pending = entries.reduce((n, e) => n + e.backlog.pending, 0);
    const plus = cursor ? "+" : "";
    mount(
      summary,
      tiles(
        tile("Disabled", `${count(disabled)}${plus}`, "receive nothing until enabled", disabled ? "bad" : "ok"),
        tile("Failing", `${count(entries.length - disabled)}${plus}`, "active, newest attempt failed", entries.length - disabled ? "warn" : "ok"),
        tile("Backlog", count(pending + skipped), `${count(pending)} pending · ${count(skipped)} skipped`, skipped ? "bad" : pending ? "warn" : null),
      ),
    );
    mount(
      list,
      entries.length
        ? entries.map((e) => row(e, notices, reload))
        : h("li", { class: "triage-empty notice ok" }, "Nothing needs you: every endpoint of every application is active and its newest attempt succeeded."),
    );
    more.hidden = !cursor;
  }

  async function load() {
    const page = await api("GET", `/endpoints/triage${query({ limit: 100, cursor })}`);
    entries = entries.concat(page.data);
    cursor = page.nextCursor;
    draw();
  }
  async function reload() {
    entries = [];
    cursor = null;
    await load();
  }
  more.addEventListener("click", () => busy(more, notices, load));
  await load();
  ctx.show(
    h("div", { class: "title" }, h("h1", null, "Triage")),
    h("p", { class: "muted lead" }, "Every application's endpoints that are disabled or whose newest attempt failed: disabled first, oldest trouble first. Enable a disabled endpoint, then Recover what it skipped; Open one to read its errors."),
    summary,
    section("Needs attention", notices, list, more),
  );
}
