// #/apps/{app}/endpoints/{ep} — one endpoint: its health in numbers and charts,
// the actions an operator needs, and the attempt log.

import { api, path, query } from "../api.js";
import { latencyChart, successChart } from "../charts.js";
import { count, h, localInputValue, ms, mount, percent, when } from "../dom.js";
import { attemptLog, busy, chips, endpointBadge, notify, operationalEvents, reasonText, section, tile, tiles } from "../widgets.js";
import { transformationEditor } from "./transformation.js";

const POLL_MS = 500;
const POLL_FOR_MS = 15_000;
const CONFIRM_FOR_MS = 5_000;

const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** A button that asks "sure?" on the first click and acts on the second, within a few seconds. */
function confirmButton(label, confirmLabel, className, act) {
  const button = h("button", { type: "button", class: className }, label);
  let armed = null;
  button.addEventListener("click", () => {
    if (!armed) {
      button.textContent = confirmLabel;
      button.classList.add("armed");
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
        button.classList.remove("armed");
      }, CONFIRM_FOR_MS);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.textContent = label;
    button.classList.remove("armed");
    act(button);
  });
  return button;
}

function statTiles(st) {
  const tone = st.successRate === null ? null : st.successRate >= 0.99 ? "ok" : st.successRate >= 0.9 ? "warn" : "bad";
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
  const stats = await loadStats();
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: app.name, href: `#/apps/${encodeURIComponent(app.id)}` }, { label: "Endpoint" }]);

  const header = h("div");
  const actions = h("div", { class: "actions" });
  const notices = h("div", { class: "notices" });
  const secretBox = h("div");
  const statsArea = h("div", null, statTiles(stats), charts(stats));
  const log = attemptLog({ appId: app.id, other: "message", load: (cursor) => api("GET", `${base}/attempts${query({ limit: 50, cursor })}`) });

  async function refresh() {
    const [fresh, st] = await Promise.all([api("GET", base), loadStats(), log.reload()]);
    ep = fresh;
    renderHeader();
    mount(statsArea, statTiles(st), charts(st));
  }

  /** Waits until an attempt for `messageId` is in the log (or gives up), then refreshes. */
  async function waitForAttempt(messageId) {
    const deadline = Date.now() + POLL_FOR_MS;
    while (Date.now() < deadline && ctx.alive()) {
      const page = await api("GET", `${base}/attempts${query({ limit: 50 })}`);
      if (page.data.some((a) => a.messageId === messageId)) break;
      await sleep(POLL_MS);
    }
    if (ctx.alive()) await refresh();
  }

  const sinceInput = h("input", { type: "datetime-local", id: "recover-since", value: localInputValue(new Date(Date.now() - 24 * 3_600_000)) });

  function renderHeader() {
    const active = ep.status === "active";
    mount(
      header,
      h("div", { class: "title" }, endpointBadge(ep), h("h1", { class: "mono url" }, ep.url)),
      active ? null : h("div", { class: "notice bad" }, `This endpoint is ${reasonText(ep)}. New messages are recorded as skipped; enable it, then recover them.`),
      h(
        "dl",
        { class: "facts" },
        ep.description ? [h("dt", null, "Description"), h("dd", null, ep.description)] : null,
        h("dt", null, "Events"),
        h("dd", null, chips(ep.events)),
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
            renderHeader();
          }),
        )
      : h("button", {
          type: "button",
          class: "primary",
          id: "enable",
          onclick: (e) =>
            busy(e.currentTarget, notices, async () => {
              ep = await api("POST", `${base}/enable`);
              notify(notices, "ok", "Enabled. Its failure count starts again from zero.");
              renderHeader();
            }),
        }, "Enable");
    toggle.id = active ? "disable" : "enable";

    const test = h(
      "button",
      {
        type: "button",
        id: "send-test",
        disabled: !active,
        title: active ? "Sends a signed webhook.test event to this endpoint only" : "Enable the endpoint first",
        onclick: (e) =>
          busy(e.currentTarget, notices, async () => {
            const { messageId } = await api("POST", `${base}/test`);
            notify(notices, "info", "Test event queued: ", h("span", { class: "mono" }, messageId), "; waiting for its attempt…");
            await waitForAttempt(messageId);
            notify(notices, "ok", "Test event sent: ", h("span", { class: "mono" }, messageId), ". Its attempt is at the top of the log.");
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

    const reload = h("button", { type: "button", class: "ghost", onclick: (e) => busy(e.currentTarget, notices, refresh) }, "Refresh");

    mount(
      actions,
      h("div", { class: "action-group" }, toggle, test),
      h("div", { class: "action-group" }, h("label", { for: "recover-since" }, "Recover since"), sinceInput, recover),
      h("div", { class: "action-group" }, rotate, reload),
    );
  }

  renderHeader();
  const events = operationalEvents(api, query, { endpointId: ep.id });
  await Promise.all([log.next(), events.next()]);
  ctx.show(
    header,
    h("section", { class: "panel" }, actions, notices, secretBox),
    statsArea,
    section("Transformation", transformationEditor({ endpoint: ep, base, call: api })),
    section("Attempt log", log.element),
    section("Operational events", events.element),
  );
}
