// @ts-check
// An endpoint's signing secret: hidden until asked for, copied in one click,
// and rotated with the overlap explained (both secrets sign for 24 hours).

import { h } from "/dashboard/dom.js";
import { busy, notify } from "/dashboard/widgets.js";
import { confirmButton, copyButton } from "./ui.js";

const OVERLAP =
  "Rotating makes a new secret at once. For the next 24 hours every webhook is signed with both the new and the previous secret " +
  "(webhook-signature carries one v1 signature per secret), so your receiver keeps verifying while you deploy the new one; " +
  "after that only the new secret signs. x-webhook-signature, the single-secret scheme, uses the new secret at once.";

/**
 * @param {any} ctx
 * @param {any} ep
 */
export function secretPanel(ctx, ep) {
  const path = `${ctx.base}/endpoints/${encodeURIComponent(ep.id)}`;
  const notices = h("div", { class: "notices" });
  const value = h("code", { class: "secret-value", id: "secret-value" }, ep.secret);
  let full = /** @type {string | null} */ (null);
  let shown = false;

  const reveal = h("button", { type: "button", id: "reveal-secret", "aria-pressed": "false", "aria-controls": "secret-value", "aria-label": `Show the signing secret of ${ep.url}` }, "Show");
  reveal.addEventListener("click", () =>
    busy(reveal, notices, async () => {
      shown = !shown;
      value.textContent = shown ? await load() : ep.secret;
      reveal.textContent = shown ? "Hide" : "Show";
      reveal.setAttribute("aria-pressed", String(shown));
      reveal.setAttribute("aria-label", `${shown ? "Hide" : "Show"} the signing secret of ${ep.url}`);
    }),
  );

  const load = async () => (full ??= (await ctx.call("GET", `${path}/secret`)).secret);
  const copy = copyButton(`Copy the signing secret of ${ep.url}`, load, value);

  const rotate = confirmButton("Rotate", "Press again to rotate", `Rotate the signing secret of ${ep.url}`, (b) =>
    busy(b, notices, async () => {
      full = (await ctx.call("POST", `${path}/secret/rotate`)).secret;
      shown = true;
      value.textContent = full;
      reveal.textContent = "Hide";
      reveal.setAttribute("aria-pressed", "true");
      notify(notices, "ok", "New secret in place: the previous one keeps signing for 24 hours.");
    }),
  );
  rotate.id = "rotate-secret";

  return h(
    "section",
    { class: "panel", "aria-labelledby": "secret-title" },
    h("h2", { id: "secret-title" }, "Signing secret"),
    h("div", { class: "secret-row" }, value),
    h("div", { class: "action-group" }, reveal, copy, rotate),
    h("p", { class: "hint" }, OVERLAP),
    notices,
  );
}

