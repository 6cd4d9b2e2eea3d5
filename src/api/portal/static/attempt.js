// @ts-check
// One attempt, opened: its outcome (status, duration, error), the request as
// Herald sent it (headers and body) and the response (headers and the first
// 4 KiB of the body), and a button to send that message to this endpoint again.

import { h, ms, when } from "/dashboard/dom.js";
import { busy, notify, pretty } from "/dashboard/widgets.js";

/** @param {[string, string][]} entries */
const headerList = (entries) => h("dl", { class: "facts mono headers" }, entries.map(([k, v]) => [h("dt", null, k), h("dd", null, v)]));

/**
 * The request's headers as Herald builds them for this attempt (src/delivery/request.ts).
 * Signatures are computed per attempt and not kept, so they are shown as such;
 * the endpoint's own headers and credentials are shown as it has them now.
 * @param {any} a attempt @param {any} message @param {any} ep
 */
function requestHeaders(a, message, ep) {
  /** @type {[string, string][]} */
  const list = Object.entries(ep.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]);
  if (ep.authentication) list.push(["authorization", `(${ep.authentication.type} credentials)`]);
  list.push(
    ["content-type", "application/json"],
    ["webhook-id", message.id],
    ["webhook-timestamp", String(Math.floor(Date.parse(a.timestamp) / 1000))],
    ["webhook-signature", "v1,… (computed for this attempt; not kept)"],
    ["x-webhook-signature", "… (computed for this attempt; not kept)"],
    ["x-webhook-event", message.eventType],
    ["x-webhook-id", message.id],
    ["x-webhook-attempt", String(a.attemptNumber)],
  );
  return list;
}

/**
 * @param {any} ctx @param {any} ep @param {any} a the attempt
 * @param {() => void} onResent
 */
export async function attemptDetail(ctx, ep, a, onResent) {
  const message = await ctx.call("GET", `${ctx.base}/messages/${encodeURIComponent(a.messageId)}`);
  const notices = h("div", { class: "notices" });
  const resend = h("button", { type: "button", class: "resend", disabled: ep.status !== "active", "aria-label": `Resend message ${message.id} to ${ep.url}` }, "Resend");
  resend.addEventListener("click", () =>
    busy(resend, notices, async () => {
      await ctx.call("POST", `${ctx.base}/messages/${encodeURIComponent(message.id)}/endpoints/${encodeURIComponent(ep.id)}/resend`);
      notify(notices, "ok", "Queued: the message is sent to this endpoint once more now.");
      onResent();
    }),
  );
  const response = Object.entries(a.responseHeaders ?? {}).map(([k, v]) => /** @type {[string, string]} */ ([k, String(v)]));
  return h(
    "div",
    { class: "attempt-detail stack" },
    h(
      "dl",
      { class: "facts" },
      h("dt", null, "Result"),
      h("dd", null, a.success ? "Delivered" : "Failed", a.statusCode === null ? "" : ` · HTTP ${a.statusCode}`),
      h("dt", null, "Duration"),
      h("dd", null, ms(a.durationMs)),
      a.errorKind ? [h("dt", null, "Error"), h("dd", null, h("span", { class: "chip" }, a.errorKind), " ", a.errorMessage ?? "")] : null,
      h("dt", null, "When"),
      h("dd", null, when(a.timestamp)),
      h("dt", null, "Attempt"),
      h("dd", null, `#${a.attemptNumber} of message `, h("span", { class: "mono" }, message.id)),
      h("dt", null, "Event type"),
      h("dd", null, h("code", null, message.eventType)),
      h("dt", null, "Sent to"),
      h("dd", { class: "mono url" }, a.url),
    ),
    h("h3", null, "Request"),
    h("details", null, h("summary", null, "Headers"), headerList(requestHeaders(a, message, ep))),
    h("pre", { class: "body request-body", "aria-label": "Request body" }, JSON.stringify(message.payload, null, 2)),
    h("h3", null, "Response"),
    response.length ? h("details", null, h("summary", null, `Headers (${response.length})`), headerList(response)) : h("p", { class: "muted" }, "No headers: no response."),
    h("pre", { class: "body response-body", "aria-label": "Response body (first 4 KiB)" }, pretty(a.responseBody) ?? h("span", { class: "muted" }, "(empty)")),
    h("div", { class: "action-group" }, resend),
    notices,
  );
}
