// @ts-check
// #/endpoints/{ep} — one endpoint: what it receives, its state (disable,
// enable, delete), its signing secret, a test event, recovery of what failed
// since a chosen time, and its attempt log.

import { count, h, link, localInputValue } from "/dashboard/dom.js";
import { transformationEditor } from "/dashboard/views/transformation.js";
import { busy, chips, endpointBadge, notify, reasonText } from "/dashboard/widgets.js";
import { attemptLog } from "../log.js";
import { secretPanel } from "../secret.js";
import { testEventPanel } from "../test-event.js";
import { confirmButton, field } from "../ui.js";

/** @param {any} ctx @param {string} epId @param {number} generation */
export async function renderEndpoint(ctx, epId, generation) {
  const path = `${ctx.base}/endpoints/${encodeURIComponent(epId)}`;
  const [ep, types] = await Promise.all([ctx.call("GET", path), ctx.catalog()]);
  const notices = h("div", { class: "notices" });
  const log = attemptLog(ctx, ep, types);

  const toggle =
    ep.status === "active"
      ? confirmButton("Disable", "Press again to disable", `Disable endpoint ${ep.url}`, (b) =>
          busy(b, notices, async () => {
            await ctx.call("POST", `${path}/disable`);
            if (ctx.alive(generation)) ctx.refresh();
          }),
        )
      : h(
          "button",
          {
            type: "button",
            class: "primary",
            "aria-label": `Enable endpoint ${ep.url}`,
            onclick: (/** @type {Event} */ e) =>
              busy(/** @type {HTMLButtonElement} */ (e.currentTarget), notices, async () => {
                await ctx.call("POST", `${path}/enable`);
                if (ctx.alive(generation)) ctx.refresh();
              }),
          },
          "Enable",
        );
  toggle.id = ep.status === "active" ? "disable" : "enable";

  const remove = confirmButton("Delete", "Press again to delete", `Delete endpoint ${ep.url}`, (b) =>
    busy(b, notices, async () => {
      await ctx.call("DELETE", path);
      ctx.go("#/");
    }),
  "danger");
  remove.id = "delete";

  const since = /** @type {HTMLInputElement} */ (h("input", { type: "datetime-local", id: "recover-since", value: localInputValue(new Date(Date.now() - 24 * 3_600_000)) }));
  const recoverNotices = h("div", { class: "notices" });
  const recover = h("button", { type: "button", id: "recover", disabled: ep.status !== "active", "aria-label": `Recover failed deliveries to ${ep.url}` }, "Recover");
  recover.addEventListener("click", () =>
    busy(recover, recoverNotices, async () => {
      const t = new Date(since.value);
      if (Number.isNaN(t.getTime())) throw new Error("Choose the time to recover from.");
      const { queued } = await ctx.call("POST", `${path}/recover`, { since: t.toISOString() });
      notify(recoverNotices, "ok", queued === 0 ? "Nothing failed or was skipped since then." : `Queued ${count(queued)} deliveries again.`);
      if (queued > 0) setTimeout(() => ctx.alive(generation) && log.reload().catch(() => {}), 1500);
    }),
  );

  await log.reload();
  const active = ep.status === "active";
  return h(
    "div",
    { class: "stack" },
    h("p", null, h("a", { href: "#/", class: "back" }, "← All endpoints")),
    h("div", { class: "title" }, endpointBadge(ep), h("h1", { class: "mono url" }, ep.url)),
    active
      ? null
      : h("div", { class: "notice bad", id: "disabled-banner" }, `This endpoint is ${reasonText(ep)}. New events for it are kept as skipped: enable it, then recover them below.`),
    h(
      "section",
      { class: "panel" },
      h(
        "dl",
        { class: "facts" },
        ep.description ? [h("dt", null, "Description"), h("dd", null, ep.description)] : null,
        h("dt", null, "Event types"),
        h("dd", null, chips(ep.events)),
        ep.filter ? [h("dt", null, "Filter"), h("dd", null, h("pre", { class: "body" }, JSON.stringify(ep.filter, null, 2)))] : null,
        ep.ordering === "fifo" ? [h("dt", null, "Order"), h("dd", { id: "ordering" }, "In order, one at a time")] : null,
        h("dt", null, "Id"),
        h("dd", { class: "mono" }, ep.id),
      ),
      h("div", { class: "action-group" }, h("a", { href: `${link("endpoints", ep.id)}/edit`, class: "button", id: "edit", "aria-label": `Edit endpoint ${ep.url}` }, "Edit"), toggle, remove),
      notices,
    ),
    secretPanel(ctx, ep),
    testEventPanel(ctx, ep, types, () => log.reload().catch(() => {})),
    h(
      "section",
      { class: "panel", "aria-labelledby": "transformation-title" },
      h("h2", { id: "transformation-title" }, "Transformation"),
      h("p", { class: "hint" }, "JavaScript that may change each request before it is signed and sent, or cancel it. Try it on a sample first."),
      transformationEditor({ endpoint: ep, base: path, call: ctx.call }),
    ),
    h(
      "section",
      { class: "panel", "aria-labelledby": "recover-title" },
      h("h2", { id: "recover-title" }, "Recover failed deliveries"),
      h("p", { class: "hint" }, active ? "Sends again every delivery to this endpoint that failed or was skipped since the time you choose." : "Enable the endpoint first."),
      h("div", { class: "inline-form" }, field("Since", since), recover),
      recoverNotices,
    ),
    log.element,
  );
}

