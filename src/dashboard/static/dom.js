// @ts-check
// Building the page without ever parsing an HTML string: every piece of data
// becomes a text node or an attribute value set through the DOM, so nothing a
// producer or a receiver sent (payloads, response bodies, URLs, names) can
// become markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    parent.appendChild(document.createTextNode(String(child)));
  }
}

function setAttributes(el, attrs) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "href" && !String(value).startsWith("#")) {
      // Links only ever lead elsewhere in the dashboard; data never becomes a link.
      throw new Error(`refusing a non-fragment link: ${value}`);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
}

/** `h("td", { class: "num" }, "42")`: an HTML element with attributes, listeners and children. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttributes(el, attrs);
  append(el, children);
  return el;
}

/** Replaces an element's children. */
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** `#/apps/a%2Fb`: a dashboard link from path segments, each encoded. */
export function link(...segments) {
  return `#/${segments.map((x) => encodeURIComponent(x)).join("/")}`;
}

// ---- formatting --------------------------------------------------------------

const numberFormat = new Intl.NumberFormat();

export const count = (n) => (n === null || n === undefined ? "—" : numberFormat.format(n));

export function percent(rate) {
  if (rate === null || rate === undefined) return "—";
  const p = rate * 100;
  // 99.96 % must not round up to "100%": that would hide failures.
  if (p > 99 && p < 100) return `${Math.floor(p * 10) / 10}%`;
  return `${Math.round(p)}%`;
}

export function ms(value) {
  if (value === null || value === undefined) return "—";
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  return `${numberFormat.format(Math.round(value))} ms`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function when(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "—";
}

/** "3 min ago", "in 5 s", with the exact time as a tooltip. */
export function ago(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  const abs = Math.abs(seconds);
  let text;
  if (abs < 5) text = "just now";
  else if (abs < 60) text = `${abs} s`;
  else if (abs < 3600) text = `${Math.round(abs / 60)} min`;
  else if (abs < 86_400) text = `${Math.round(abs / 3600)} h`;
  else text = `${Math.round(abs / 86_400)} d`;
  if (abs >= 5) text = seconds >= 0 ? `${text} ago` : `in ${text}`;
  return h("time", { datetime: iso, title: when(iso) }, text);
}

/** A value for `<input type="datetime-local">` (local time, minutes). */
export function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
