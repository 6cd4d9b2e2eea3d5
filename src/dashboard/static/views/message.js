// @ts-check
// #/apps/{app}/messages/{msg} — one message: where it went, how each delivery
// stands (with a resend per endpoint), its payload and every attempt, the
// final attempt of each delivery that gave up marked.

import { api, path, query } from "../api.js";
import { ago, count, h, link, mount, when } from "../dom.js";
import { attemptLog, busy, chips, deliveryBadge, notify, section, tile, tiles } from "../widgets.js";

export async function renderMessage(ctx, appRef, msgId) {
  const app = await api("GET", path("applications", appRef));
  const base = path("applications", app.id, "messages", msgId);
  const [message, endpoints] = await Promise.all([api("GET", base), api("GET", `${path("applications", app.id, "endpoints")}${query({ limit: 250 })}`)]);
  ctx.crumbs([{ label: "Applications", href: "#/" }, { label: app.name, href: link("apps", app.id) }, { label: "Message" }]);

  const byId = new Map(endpoints.data.map((e) => [e.id, e]));
  const endpointName = (id) => byId.get(id)?.url ?? id;
  const notices = h("div", { class: "notices" });
  const summary = h("div");
  const deliveriesBody = h("tbody");
  /** `endpointId:attemptNumber` of the last attempt of each failed delivery: no retry follows it. */
  const finals = new Set();
  const log = attemptLog({ appId: app.id, other: "endpoint", endpointName, isFinal: (a) => finals.has(`${a.endpointId}:${a.attemptNumber}`), load: (cursor) => api("GET", `${base}/attempts${query({ limit: 50, cursor })}`) });

  async function loadDeliveries() {
    const { data } = await api("GET", `${base}/deliveries`);
    finals.clear();
    for (const d of data) if (d.status === "failed") finals.add(`${d.endpointId}:${d.attempts}`);
    const by = (status) => data.filter((d) => d.status === status).length;
    mount(
      summary,
      tiles(
        tile("Endpoints", count(data.length)),
        tile("Delivered", count(by("succeeded")), null, by("succeeded") ? "ok" : null),
        tile("Pending", count(by("pending")), null, by("pending") ? "warn" : null),
        tile("Failed", count(by("failed")), by("skipped") ? `${count(by("skipped"))} skipped` : null, by("failed") || by("skipped") ? "bad" : null),
      ),
    );
    mount(
      deliveriesBody,
      data.map((d) => {
        const ep = byId.get(d.endpointId);
        const resend = h(
          "button",
          {
            type: "button",
            class: "small",
            disabled: ep?.status === "disabled",
            title: ep?.status === "disabled" ? "Enable the endpoint first" : "Queue one more delivery to this endpoint now",
            onclick: (e) =>
              busy(e.currentTarget, notices, async () => {
                await api("POST", `${base}/endpoints/${encodeURIComponent(d.endpointId)}/resend`);
                notify(notices, "ok", "Resend queued to ", h("span", { class: "mono" }, endpointName(d.endpointId)), ".");
                setTimeout(() => ctx.alive() && Promise.all([loadDeliveries(), log.reload()]).catch(() => {}), 1500);
              }),
          },
          "Resend",
        );
        return h(
          "tr",
          { class: "delivery", "data-endpoint-id": d.endpointId },
          h("td", { class: "ellipsis" }, h("a", { href: link("apps", app.id, "endpoints", d.endpointId), class: "mono" }, endpointName(d.endpointId))),
          h("td", null, deliveryBadge(d.status)),
          h("td", { class: "num" }, count(d.attempts)),
          h("td", null, ago(d.lastAttemptAt)),
          h("td", null, d.status === "pending" ? ago(d.nextAttemptAt) : h("span", { class: "muted" }, "—")),
          h("td", null, resend),
        );
      }),
    );
  }

  await loadDeliveries();
  await log.next();
  ctx.show(
    h("div", { class: "title" }, h("span", { class: "chip big" }, message.eventType), h("h1", { class: "mono" }, message.id)),
    h(
      "dl",
      { class: "facts" },
      h("dt", null, "Accepted"),
      h("dd", null, when(message.timestamp)),
      h("dt", null, "Idempotency key"),
      h("dd", { class: "mono" }, message.eventId ?? "—"),
      message.channels ? [h("dt", null, "Channels"), h("dd", null, chips(message.channels))] : null,
    ),
    summary,
    section(
      "Deliveries",
      notices,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "deliveries" },
          h("thead", null, h("tr", null, ["Endpoint", "Status", "Attempts", "Last attempt", "Next attempt", ""].map((c) => h("th", null, c)))),
          deliveriesBody,
        ),
      ),
    ),
    section("Payload", h("pre", { class: "body payload" }, JSON.stringify(message.payload, null, 2))),
    section("Attempts", log.element),
  );
}
