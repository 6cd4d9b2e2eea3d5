// The consumer portal: one application's endpoints, seen through a portal token.
// The token arrives in the URL fragment (never sent to a server), is moved to
// sessionStorage and removed from the address bar. Everything shown is set with
// textContent: no HTML is ever built from data.

const $ = (selector) => document.querySelector(selector);

function takeToken() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem("herald-portal-token", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname);
  }
  return sessionStorage.getItem("herald-portal-token");
}

function claims(token) {
  try {
    const payload = token.slice(4, token.lastIndexOf("."));
    return JSON.parse(atob(payload.replace(/-/g, "+").replace(/_/g, "/")));
  } catch {
    return null;
  }
}

const token = takeToken();
const app = token ? claims(token)?.app : null;

function status(text, kind = "") {
  const el = $("#status");
  el.textContent = text;
  el.className = kind;
}

async function api(method, path, body) {
  const res = await fetch(`/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.status === 204 ? null : await res.json();
  if (!res.ok) throw new Error(data?.detail ?? `HTTP ${res.status}`);
  return data;
}

function cell(row, text) {
  const td = document.createElement("td");
  td.textContent = text;
  row.append(td);
  return td;
}

function button(parent, label, action) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", () => action().catch((err) => status(err.message, "bad")));
  parent.append(b);
}

const appPath = () => `/applications/${encodeURIComponent(app)}`;

async function showAttempts(ep) {
  const section = $("#attempts");
  section.hidden = false;
  section.querySelector("code").textContent = ep.url;
  const body = section.querySelector("tbody");
  body.replaceChildren();
  const { data } = await api("GET", `${appPath()}/endpoints/${ep.id}/attempts?limit=50`);
  for (const a of data) {
    const row = body.insertRow();
    cell(row, new Date(a.timestamp).toLocaleString());
    cell(row, a.messageId);
    cell(row, String(a.attemptNumber));
    cell(row, a.success ? `✓ ${a.statusCode}` : `✗ ${a.statusCode ?? a.errorKind}`).className = a.success ? "ok" : "bad";
    cell(row, String(a.durationMs));
  }
  if (data.length === 0) cell(body.insertRow(), "No attempts yet.");
}

/** The dashboard's transformation editor (one module for both), under the endpoints table. */
async function showTransformation(ep, path) {
  const { transformationEditor } = await import("/dashboard/views/transformation.js");
  const heading = Object.assign(document.createElement("h2"), { textContent: `Transformation of ${ep.url}` });
  $("#transformation").replaceChildren(heading, transformationEditor({ endpoint: ep, base: path, call: api }));
}

async function loadEndpoints() {
  const { data } = await api("GET", `${appPath()}/endpoints?limit=250`);
  const body = $("#endpoints tbody");
  body.replaceChildren();
  for (const ep of data) {
    const row = body.insertRow();
    cell(row, ep.url);
    const events = cell(row, ep.events.join(", "));
    if (ep.filter) {
      // The payload filter, read-only: only matching messages are delivered.
      const filter = document.createElement("code");
      filter.textContent = JSON.stringify(ep.filter);
      events.append(document.createElement("br"), "filter: ", filter);
    }
    // FIFO: one message at a time, in publish order.
    if (ep.ordering === "fifo") events.append(document.createElement("br"), "ordering: FIFO");
    cell(row, ep.status === "active" ? "active" : `disabled (${ep.disabledReason})`);
    const actions = cell(row, "");
    const path = `${appPath()}/endpoints/${ep.id}`;
    button(actions, "Attempts", () => showAttempts(ep));
    button(actions, "Transformation", () => showTransformation(ep, path));
    if (ep.status === "active") {
      button(actions, "Send test", async () => status(`Test sent: ${(await api("POST", `${path}/test`)).messageId}`, "ok"));
      button(actions, "Recover 24 h", async () => {
        const since = new Date(Date.now() - 86_400_000).toISOString();
        status(`Re-queued ${(await api("POST", `${path}/recover`, { since })).queued} deliveries`, "ok");
      });
    } else {
      button(actions, "Enable", async () => {
        await api("POST", `${path}/enable`);
        await loadEndpoints();
      });
    }
    button(actions, "Delete", async () => {
      if (!confirm(`Delete the endpoint ${ep.url}?`)) return;
      await api("DELETE", path);
      status("Endpoint deleted", "ok");
      await loadEndpoints();
    });
  }
  if (data.length === 0) cell(body.insertRow(), "No endpoints yet.");
}

async function loadEventTypes() {
  const { data } = await api("GET", "/event-types?limit=250");
  const list = $("#event-types");
  for (const type of data) {
    const option = document.createElement("option");
    option.value = type.name;
    option.textContent = type.description;
    list.append(option);
  }
}

$("#create").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const events = String(form.get("events") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  try {
    const ep = await api("POST", `${appPath()}/endpoints`, { url: String(form.get("url")), ...(events.length ? { events } : {}) });
    const secret = $("#secret");
    secret.hidden = false;
    secret.querySelector("code").textContent = ep.secret;
    event.target.reset();
    status("Endpoint added", "ok");
    await loadEndpoints();
  } catch (err) {
    status(err.message, "bad");
  }
});

if (!token || !app) {
  $("#signed-out").hidden = false;
} else {
  $("#portal").hidden = false;
  api("GET", appPath())
    .then((a) => {
      $("#app-name").textContent = `· ${a.name}`;
      return Promise.all([loadEndpoints(), loadEventTypes()]);
    })
    .catch((err) => status(`${err.message} (the link may have expired)`, "bad"));
}
