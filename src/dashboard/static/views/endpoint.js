// @ts-check
// #/apps/{app}/endpoints/{ep} — one endpoint: its health in numbers and charts,
// the actions an operator needs (enable/disable, test with a chosen event
// type, recover, rotate, edit, delete), and the attempt log with each failed
// delivery's final attempt marked.

import { api, path, query } from "../api.js";
import { latencyChart, successChart } from "../charts.js";
import { ago, count, h, link, localInputValue, ms, mount, percent, when } from "../dom.js";
import { confirmButton } from "../forms.js";
import { healthOf } from "../health.js";
import { attemptLog, busy, chips, endpointBadge, notify, operationalEvents, reasonText, section, tile, tiles } from "../widgets.js";

const POLL_MS = 500;
const POLL_FOR_MS = 15_000;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** `HTTP 500 · http_status — message`, for the disabled banner. */
function errorLine(a) {
  return [a.statusCode ? `HTTP ${a.statusCode}` : null, a.errorKind].filter(Boolean).join(" · ") + (a.errorMessage ? ` — ${a.errorMessage}` : "");
}

function statTiles(st) {
  const rate = st.attempts === 0 ? null : st.succeeded / st.attempts;
  const tone = healthOf(rate) === "idle" ? null : healthOf(rate);
  const d = st.deliveries;
  return tiles(
    tile("Success rate · 24 h", percent(st.successRate), `${count(st.succeeded)} delivered · ${count(st.failed)} failed`, tone),
    tile("Attempts · 24 h", count(st.attempts)),
    tile("Latency p50", ms(st.latency.p50), `p90 ${ms(st.latency.p90)} · p99 ${ms(st.latency.p99)}`),
    tile("Pending", count(d.pending), "deliveries waiting or retrying", d.pending ? "warn" : null),
    tile("Failed", count(d.failed), `${count(d.skipped)} skipped`, d.failed || d.skipped ? "bad" : null),
  );
}

function charts(st) {
  return h(
    "div",
    { class: "charts" },
    section("Success rate per hour", h("div", { class: "chart-box", id: "success-chart" }, successChart(st.series))),
    section("Latency p50 per hour", h("div", { class: "chart-box", id: "latency-chart" }, latencyChart(st.series))),
  );
}

export async function renderEndpoint(ctx, appRef, epId) {
  const app = await api("GET", path("applications", appRef));
  const base = path("applications", app.id, "endpoints", epId);
  let ep = await api("GET", base);
  const loadStats = () => api("GET", `${base}/stats`);
  const opsOf = (type, limit) => api("GET", `/operational-events${query({ endpointId: ep.id, type, limit })}`);
  const [stats, types, exhausted] = await Promise.all([loadStats(), api("GET", `/event-types${query({ limit: 250 })}`), opsOf("message.attempt.exhausted", 250)]);
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: app.name, href: link("apps", app.id) }, { label: "Endpoint" }]);

  // The attempts after which a delivery gave up: its exhausted events name them.
  const finalIds = new Set(exhausted.data.map((e) => e.data?.lastAttempt?.id).filter(Boolean));
  const header = h("div");
  const actions = h("div", { class: "actions" });
  const notices = h("div", { class: "notices", "aria-live": "polite" });
  const secretBox = h("div");
  const statsArea = h("div", null, statTiles(stats), charts(stats));
  const log = attemptLog({ appId: app.id, other: "message", isFinal: (a) => finalIds.has(a.id), load: (cursor) => api("GET", `${base}/attempts${query({ limit: 50, cursor })}`) });
  /** The newest failed attempt seen, and when the endpoint was last disabled: for the banner. */
  let lastFailure = null;
  let disabledAt = null;

  async function loadBannerFacts() {
    if (ep.status !== "disabled") return;
    const [events, attempts] = await Promise.all([opsOf("endpoint.disabled", 1), api("GET", `${base}/attempts${query({ limit: 50 })}`)]);
    disabledAt = events.data[0]?.timestamp ?? null;
    lastFailure = attempts.data.find((a) => !a.success) ?? null;
  }

  async function refresh() {
    const [fresh, st] = await Promise.all([api("GET", base), loadStats(), log.reload()]);
    ep = fresh;
    await loadBannerFacts();
    renderHeader();
    mount(statsArea, statTiles(st), charts(st));
  }

  /** Waits until an attempt for `messageId` is in the log (or gives up), then refreshes. */
  async function waitForAttempt(messageId) {
    const deadline = Date.now() + POLL_FOR_MS;
    while (Date.now() < deadline && ctx.alive()) {
      const page = await api("GET", `${base}/attempts${query({ limit: 50 })}`);
      const found = page.data.find((a) => a.messageId === messageId);
      if (found) {
        if (ctx.alive()) await refresh();
        return found;
      }
      await sleep(POLL_MS);
    }
    if (ctx.alive()) await refresh();
    return null;
  }

  const sinceInput = h("input", { type: "datetime-local", id: "recover-since", value: localInputValue(new Date(Date.now() - 24 * 3_600_000)) });
  const testType = h(
    "select",
    { id: "test-type", "aria-label": "Event type of the test event" },
    h("option", { value: "webhook.test" }, "webhook.test"),
    types.data.filter((t) => !t.archived).map((t) => h("option", { value: t.name }, t.name)),
  );

  function banner() {
    if (ep.status === "active") return null;
    return h(
      "div",
      { class: "notice bad disabled-banner", role: "status" },
      h("div", null, h("strong", null, "Disabled"), disabledAt ? [" ", ago(disabledAt), ` (${when(disabledAt)})`] : null, `: ${reasonText(ep)}.`),
      lastFailure
        ? h("div", { class: "banner-error" }, "Last error ", ago(lastFailure.timestamp), ": ", h("span", { class: "mono" }, errorLine(lastFailure)))
        : null,
      h("div", null, "New messages are recorded as skipped; enable it, then recover them."),
    );
  }

  function renderHeader() {
    const active = ep.status === "active";
    mount(
      header,
      h("div", { class: "title" }, endpointBadge(ep), h("h1", { class: "mono url" }, ep.url)),
      banner(),
      h(
        "dl",
        { class: "facts" },
        ep.description ? [h("dt", null, "Description"), h("dd", null, ep.description)] : null,
        h("dt", null, "Events"),
        h("dd", null, chips(ep.events ?? ["*"])),
        ep.channels ? [h("dt", null, "Channels"), h("dd", null, chips(ep.channels))] : null,
        ep.filter ? [h("dt", null, "Filter"), h("dd", null, h("pre", { class: "body" }, JSON.stringify(ep.filter, null, 2)))] : null,
        h("dt", null, "Id"),
        h("dd", { class: "mono" }, ep.id),
        h("dt", null, "Secret"),
        h("dd", { class: "mono" }, ep.secret),
        h("dt", null, "Created"),
        h("dd", null, when(ep.createdAt)),
      ),
    );

    const toggle = active
      ? confirmButton("Disable", "Click again to disable", "danger", (b) =>
          busy(b, notices, async () => {
            ep = await api("POST", `${base}/disable`);
            notify(notices, "info", "Disabled. New messages for it are recorded as skipped.");
            await loadBannerFacts();
            renderHeader();
          }),
        )
      : h(
          "button",
          {
            type: "button",
            class: "primary",
            onclick: (e) =>
              busy(e.currentTarget, notices, async () => {
                ep = await api("POST", `${base}/enable`);
                notify(notices, "ok", "Enabled. Its failure count starts again from zero.");
                renderHeader();
              }),
          },
          "Enable",
        );
    toggle.id = active ? "disable" : "enable";

    const test = h(
      "button",
      {
        type: "button",
        id: "send-test",
        disabled: !active,
        title: active ? "Sends a signed test event of the chosen type to this endpoint only" : "Enable the endpoint first",
        onclick: (e) =>
          busy(e.currentTarget, notices, async () => {
            const eventType = testType.value;
            const { messageId } = await api("POST", `${base}/test`, { eventType });
            notify(notices, "info", `Test event (${eventType}) queued: `, h("span", { class: "mono" }, messageId), "; waiting for its attempt…");
            const attempt = await waitForAttempt(messageId);
            if (!attempt) notify(notices, "info", "Test event queued: ", h("span", { class: "mono" }, messageId), ". No attempt yet; it is in the log once made.");
            else if (attempt.success) notify(notices, "ok", `Test event sent (${eventType}): `, h("span", { class: "mono" }, messageId), `, answered ${attempt.statusCode}. Its attempt is at the top of the log.`);
            else notify(notices, "bad", `Test event failed (${eventType}): ${errorLine(attempt)}. Its attempt is at the top of the log.`);
          }),
      },
      "Send test event",
    );

    const recover = h(
      "button",
      {
        type: "button",
        id: "recover",
        disabled: !active,
        title: active ? "Re-queues every failed or skipped delivery since that time" : "Enable the endpoint first",
        onclick: (e) =>
          busy(e.currentTarget, notices, async () => {
            const since = new Date(sinceInput.value);
            if (Number.isNaN(since.getTime())) throw new Error("Pick the time to recover from.");
            const { queued } = await api("POST", `${base}/recover`, { since: since.toISOString() });
            notify(notices, "ok", queued === 0 ? "Nothing to recover since then." : `Queued ${count(queued)} deliveries again.`);
            if (queued > 0) setTimeout(() => ctx.alive() && refresh().catch(() => {}), 1500);
          }),
      },
      "Recover",
    );

    const rotate = confirmButton("Rotate secret", "Click again to rotate", "", (b) =>
      busy(b, notices, async () => {
        const { secret } = await api("POST", `${base}/secret/rotate`);
        const copy = h("button", { type: "button", class: "ghost" }, "Copy");
        copy.addEventListener("click", () => navigator.clipboard?.writeText(secret).then(() => (copy.textContent = "Copied")));
        mount(
          secretBox,
          h(
            "div",
            { class: "secret", role: "status" },
            h("div", null, h("strong", null, "New signing secret: shown once, copy it now."), " The previous secret keeps signing for 24 hours, so receivers can switch over."),
            h("div", { class: "secret-row" }, h("code", { id: "new-secret" }, secret), copy, h("button", { type: "button", class: "ghost", onclick: () => mount(secretBox) }, "Hide")),
          ),
        );
        ep = await api("GET", base);
        renderHeader();
      }),
    );
    rotate.id = "rotate";

    const remove = confirmButton("Delete", "Click again: delete it with its log", "danger", (b) =>
      busy(b, notices, async () => {
        await api("DELETE", base);
        location.hash = link("apps", app.id);
      }),
    );
    remove.id = "delete-endpoint";

    const reload = h("button", { type: "button", class: "ghost", onclick: (e) => busy(e.currentTarget, notices, refresh) }, "Refresh");

    mount(
      actions,
      h("div", { class: "action-group" }, toggle, testType, test),
      h("div", { class: "action-group" }, h("label", { for: "recover-since" }, "Recover since"), sinceInput, recover),
      h("div", { class: "action-group" }, rotate, h("a", { class: "button", id: "edit-endpoint", href: link("apps", app.id, "endpoints", ep.id, "edit") }, "Edit"), remove, reload),
    );
  }

  await loadBannerFacts();
  renderHeader();
  const events = operationalEvents(api, query, { endpointId: ep.id });
  await Promise.all([log.next(), events.next()]);
  ctx.show(
    header,
    h("section", { class: "panel" }, actions, notices, secretBox),
    statsArea,
    section("Attempt log", log.element),
    section("Operational events", events.element),
  );
}
