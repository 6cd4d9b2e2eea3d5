// @ts-check
// Pieces several views share: number tiles, badges, tables with "load more",
// the attempt log, buttons that show they are busy, and notices.

import { ago, count, h, link, ms, mount, when } from "./dom.js";

/** A big number with a label and an optional line under it. */
export function tile(label, value, sub, tone) {
  return h("div", { class: `tile${tone ? ` ${tone}` : ""}` }, h("div", { class: "tile-label" }, label), h("div", { class: "tile-value" }, value), sub ? h("div", { class: "tile-sub" }, sub) : null);
}

export function tiles(...items) {
  return h("div", { class: "tiles" }, items);
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", null, title), children);
}

const REASONS = {
  manual: "disabled by hand",
  failing: "disabled by Herald: a delivery used up its retries with no success",
  gone: "disabled by Herald: the endpoint answered 410 Gone",
};

/** active / disabled (with why). */
export function endpointBadge(endpoint) {
  if (endpoint.status === "active") return h("span", { class: "badge ok", "data-status": "active" }, "active");
  const reason = endpoint.disabledReason ?? "manual";
  return h("span", { class: "badge bad", "data-status": "disabled", title: REASONS[reason] ?? reason }, `disabled · ${reason}`);
}

export function deliveryBadge(status) {
  const tone = { succeeded: "ok", failed: "bad", pending: "warn", skipped: "muted" }[status] ?? "muted";
  return h("span", { class: `badge ${tone}` }, status);
}

export function reasonText(endpoint) {
  return endpoint.status === "disabled" ? (REASONS[endpoint.disabledReason ?? "manual"] ?? "") : "";
}

export function chips(values) {
  return h("span", { class: "chips" }, (values ?? []).map((v) => h("span", { class: "chip" }, v)));
}

/** A notice under the actions: `tone` is ok, bad or info. Replaces the previous one. */
export function notify(area, tone, ...content) {
  mount(area, h("div", { class: `notice ${tone}`, role: tone === "bad" ? "alert" : "status" }, content));
}

/** Runs `action` with the button disabled and marked busy; errors go to `area`. */
export async function busy(button, area, action) {
  button.disabled = true;
  button.classList.add("busy");
  try {
    return await action();
  } catch (err) {
    notify(area, "bad", err.message || String(err));
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove("busy");
  }
}

/**
 * A table whose rows come a page at a time: `load(cursor)` answers
 * `{data, nextCursor}`; `row(item)` makes one or more `<tr>`.
 * @param {{ columns: { label: string, class?: string }[], load: (cursor: string | null) => Promise<any>, row: (item: any) => Node | Node[], empty: any, className?: string }} options
 */
export function pagedTable({ columns, load, row, empty, className }) {
  const tbody = h("tbody");
  const more = h("button", { class: "ghost", type: "button", hidden: true }, "Load more");
  const status = h("div", { class: "table-status muted" });
  const table = h("table", { class: className ?? "" }, h("thead", null, h("tr", null, columns.map((c) => h("th", { class: c.class ?? "" }, c.label)))), tbody);
  let cursor = null;
  let loaded = 0;
  async function next() {
    const page = await load(cursor);
    for (const item of page.data) tbody.append(...[row(item)].flat());
    loaded += page.data.length;
    cursor = page.nextCursor;
    more.hidden = !cursor;
    mount(status, loaded === 0 ? empty : null);
    return page;
  }
  more.addEventListener("click", () => busy(more, status, next));
  const element = h("div", { class: "table-wrap" }, table, status, more);
  return {
    element,
    next,
    async reload() {
      cursor = null;
      loaded = 0;
      tbody.replaceChildren();
      return next();
    },
  };
}

/**
 * A body as text: JSON indented, anything else as it is; null when empty.
 * @param {string | null | undefined} body
 */
export function pretty(body) {
  if (body === null || body === undefined || body === "") return null;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function attemptDetail(a, columnCount) {
  const headers = Object.entries(a.responseHeaders ?? {});
  return h(
    "tr",
    { class: "detail", hidden: true },
    h(
      "td",
      { colspan: columnCount },
      h(
        "dl",
        { class: "facts" },
        h("dt", null, "Attempt"),
        h("dd", { class: "mono" }, a.id),
        h("dt", null, "Sent to"),
        h("dd", { class: "mono" }, a.url),
        h("dt", null, "At"),
        h("dd", null, when(a.timestamp)),
        a.errorMessage ? [h("dt", null, "Error"), h("dd", null, a.errorMessage)] : null,
      ),
      headers.length
        ? h("details", null, h("summary", null, `Response headers (${headers.length})`), h("dl", { class: "facts mono" }, headers.map(([k, v]) => [h("dt", null, k), h("dd", null, v)])))
        : null,
      h("div", { class: "label" }, "Response body (first 4 KiB)"),
      h("pre", { class: "body" }, pretty(a.responseBody) ?? h("span", { class: "muted" }, "(empty)")),
    ),
  );
}

/**
 * The attempt log: one row per attempt, newest first; clicking a row shows its
 * response. `other` is the column naming the other side: "message" on an
 * endpoint's log, "endpoint" on a message's. `isFinal(attempt)` marks the
 * last attempt of a delivery that gave up (no retry follows it).
 * @param {{ appId: string, load: (cursor: string | null) => Promise<any>, other: "message" | "endpoint", endpointName?: (id: string) => string, isFinal?: (attempt: any) => boolean }} options
 */
export function attemptLog({ appId, load, other, endpointName, isFinal }) {
  const columns = [
    { label: "When" },
    { label: "Result" },
    { label: "Status", class: "num" },
    { label: "Duration", class: "num" },
    { label: "Error" },
    { label: "#", class: "num" },
    { label: other === "message" ? "Message" : "Endpoint" },
  ];
  return pagedTable({
    columns,
    load,
    className: "attempts clickable",
    empty: "No attempts yet.",
    row(a) {
      const detail = attemptDetail(a, columns.length);
      const final = !a.success && isFinal?.(a) === true;
      const toggle = () => {
        detail.hidden = !detail.hidden;
        main.classList.toggle("open", !detail.hidden);
      };
      const onKey = (e) => {
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();
        toggle();
      };
      const target =
        other === "message"
          ? h("a", { href: link("apps", appId, "messages", a.messageId), class: "mono", onclick: (e) => e.stopPropagation() }, a.messageId)
          : h("a", { href: link("apps", appId, "endpoints", a.endpointId), onclick: (e) => e.stopPropagation() }, endpointName?.(a.endpointId) ?? a.endpointId);
      const main = h(
        "tr",
        { class: "attempt", tabindex: 0, "data-attempt-id": a.id, "data-final": final ? "true" : null, onclick: toggle, onkeydown: onKey },
        h("td", null, ago(a.timestamp)),
        h(
          "td",
          null,
          a.success ? h("span", { class: "badge ok" }, "✓ delivered") : h("span", { class: "badge bad" }, "✗ failed"),
          final ? [" ", h("span", { class: "badge final", title: "The last attempt of its delivery: no retry follows (Recover or Resend sends it again)" }, "final")] : null,
        ),
        h("td", { class: "num mono" }, a.statusCode ?? "—"),
        h("td", { class: "num" }, ms(a.durationMs)),
        h("td", null, a.errorKind ? h("span", { class: "chip" }, a.errorKind) : ""),
        h("td", { class: "num" }, count(a.attemptNumber)),
        h("td", { class: "ellipsis" }, target),
      );
      return [main, detail];
    },
  });
}

const OPS_TONES = {
  "endpoint.disabled": "bad",
  "message.attempt.exhausted": "bad",
  "message.attempt.failing": "warn",
  "message.attempt.recovered": "ok",
  "endpoint.enabled": "ok",
};

/**
 * Herald's operational events (endpoint.*, message.attempt.*), newest first,
 * filtered by `filter` (`{app}`, `{endpointId}`, `{type}`). Each id links to
 * what it is about; `appName(id)` names the application column when given.
 * @param {typeof import("./api.js").api} api
 * @param {typeof import("./api.js").query} query
 * @param {Record<string, string | undefined>} filter
 * @param {{ appName?: (id: string) => string }} [options]
 */
export function operationalEvents(api, query, filter, { appName } = {}) {
  const columns = [{ label: "When" }, { label: "Event" }, appName ? { label: "Application" } : null, { label: "Endpoint" }, { label: "Message" }].filter(Boolean);
  return pagedTable({
    columns,
    load: (cursor) => api("GET", `/operational-events${query({ limit: 20, cursor, ...filter })}`),
    empty: h("p", { class: "muted" }, "Nothing yet: endpoints created, disabled or recovered, and failing deliveries, show up here."),
    row: (e) =>
      h(
        "tr",
        { class: "operational-event", "data-type": e.type },
        h("td", null, ago(e.timestamp)),
        h("td", null, h("span", { class: `badge ${OPS_TONES[e.type] ?? "muted"}` }, e.type)),
        appName ? h("td", { class: "ellipsis" }, h("a", { href: link("apps", e.appId) }, appName(e.appId))) : null,
        h(
          "td",
          { class: "mono ellipsis" },
          e.endpointId && e.type !== "endpoint.deleted"
            ? h("a", { href: link("apps", e.appId, "endpoints", e.endpointId), class: "ops-endpoint" }, e.endpointId)
            : h("span", { class: "muted", title: "deleted" }, e.endpointId ?? ""),
        ),
        h("td", { class: "mono ellipsis" }, e.messageId ? h("a", { href: link("apps", e.appId, "messages", e.messageId), class: "ops-message" }, e.messageId) : ""),
      ),
  });
}
