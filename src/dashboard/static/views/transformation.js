// @ts-check
// An endpoint's transformation editor: the code, an "enabled" switch, a sample
// to try it on, Test (POST …/transformation/test) and Save (PATCH the
// endpoint). The dashboard's endpoint page and the consumer portal
// (`/dashboard/views/transformation.js`) share it. Everything shown is set as
// text: no HTML is built from data.
//
//   transformationEditor({ endpoint, base, call })
//     endpoint: the endpoint object from the API
//     base:     "/applications/{app}/endpoints/{ep}" (under /api/v1)
//     call:     (method, path, body) => parsed JSON, or throws an Error whose message is the problem's detail

import { h } from "../dom.js";

const TEMPLATE = `function handler(webhook) {
  // webhook = { method, url, eventType, payload, headers }
  // Change any of them, or set webhook.cancel = true to send nothing.
  return webhook;
}`;

function sampleFor(endpoint) {
  const first = (endpoint.events ?? []).find((e) => !e.includes("*"));
  return { eventType: first ?? "webhook.test", payload: { id: "evt_sample", data: { hello: "world" } } };
}

export function transformationEditor({ endpoint, base, call }) {
  const current = endpoint.transformation;
  const sample = sampleFor(endpoint);
  const code = h("textarea", { id: "transformation-code", rows: 12, spellcheck: "false", "aria-label": "Transformation code", class: "mono" });
  code.value = current?.code ?? TEMPLATE;
  const enabled = h("input", { id: "transformation-enabled", type: "checkbox", checked: current ? current.enabled : false });
  const eventType = h("input", { id: "transformation-event", value: sample.eventType, "aria-label": "Sample event type", size: 24 });
  const payload = h("textarea", { id: "transformation-sample", rows: 6, spellcheck: "false", "aria-label": "Sample payload (JSON)", class: "mono" });
  payload.value = JSON.stringify(sample.payload, null, 2);
  const message = h("p", { id: "transformation-message", role: "status" });
  const result = h("pre", { id: "transformation-result", class: "body", hidden: true });
  for (const box of [code, payload]) box.style.width = "100%";

  const say = (tone, text) => {
    message.className = `notice ${tone}`;
    message.textContent = text;
  };
  const guarded = (action) => async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      say("bad", err.message || String(err));
    } finally {
      button.disabled = false;
    }
  };

  const test = guarded(async () => {
    let body;
    try {
      body = JSON.parse(payload.value);
    } catch (err) {
      throw new Error(`The sample payload is not JSON: ${err.message}`);
    }
    result.hidden = true;
    const trial = await call("POST", `${base}/transformation/test`, { eventType: eventType.value.trim(), payload: body, code: code.value });
    result.textContent = JSON.stringify(trial, null, 2);
    result.hidden = false;
    say("ok", trial.cancel ? "Test ran: this delivery would be cancelled (nothing sent)." : "Test ran: this is the request that would be signed and sent.");
  });

  const save = guarded(async () => {
    const blank = code.value.trim() === "";
    const saved = await call("PATCH", base, { transformation: blank ? null : { code: code.value, enabled: enabled.checked } });
    if (!saved.transformation) enabled.checked = false;
    say("ok", !saved.transformation ? "Transformation removed." : saved.transformation.enabled ? "Saved and enabled: it runs on the next attempts." : "Saved, not enabled.");
  });

  return h(
    "div",
    { class: "transformation" },
    h("p", null, "JavaScript run in a sandbox before each attempt; the body is signed after it. Empty code and Save removes it."),
    code,
    h("label", null, enabled, " Enabled"),
    h("h3", null, "Try it"),
    h("label", null, "Event type ", eventType),
    payload,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", id: "transformation-test", onclick: test }, "Test"),
      h("button", { type: "button", id: "transformation-save", class: "primary", onclick: save }, "Save"),
    ),
    message,
    result,
  );
}
