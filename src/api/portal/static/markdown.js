// @ts-check
// A small, safe Markdown renderer for event-type descriptions: paragraphs,
// bullet and numbered lists, `code`, **bold**, *emphasis* and [links](https://…).
// It builds DOM nodes, never HTML text, so a description cannot inject markup;
// links go only to http(s) and open in a new tab without a referrer.

import { h } from "/dashboard/dom.js";

const INLINE = /(`[^`]+`)|(\*\*[^*]+\*\*)|(\*[^*\s][^*]*\*|_[^_\s][^_]*_)|(\[[^\]]+\]\([^)\s]+\))/;

/** @param {string} text @returns {Node[]} */
function inline(text) {
  /** @type {Node[]} */
  const out = [];
  let rest = text;
  for (let match = INLINE.exec(rest); match; match = INLINE.exec(rest)) {
    if (match.index > 0) out.push(document.createTextNode(rest.slice(0, match.index)));
    const token = match[0];
    if (match[1]) out.push(h("code", null, token.slice(1, -1)));
    else if (match[2]) out.push(h("strong", null, ...inline(token.slice(2, -2))));
    else if (match[3]) out.push(h("em", null, ...inline(token.slice(1, -1))));
    else out.push(link(token));
    rest = rest.slice(match.index + token.length);
  }
  if (rest) out.push(document.createTextNode(rest));
  return out;
}

/** @param {string} token `[text](url)` */
function link(token) {
  const split = token.indexOf("](");
  const text = token.slice(1, split);
  const url = token.slice(split + 2, -1);
  if (!/^https?:\/\//i.test(url)) return document.createTextNode(text);
  const a = document.createElement("a");
  a.href = url;
  a.target = "_blank";
  a.rel = "noopener noreferrer";
  a.textContent = text;
  return a;
}

/**
 * `markdown("Sent when **an order** is placed.\n\n- one\n- two")` → a `<div class="md">`.
 * @param {string} source
 */
export function markdown(source) {
  const root = h("div", { class: "md" });
  for (const block of source.trim().split(/\n\s*\n/)) {
    const lines = block.split("\n").map((l) => l.trim());
    if (lines.every((l) => /^[-*] /.test(l))) {
      root.append(h("ul", null, lines.map((l) => h("li", null, ...inline(l.slice(2))))));
    } else if (lines.every((l) => /^\d+[.)] /.test(l))) {
      root.append(h("ol", null, lines.map((l) => h("li", null, ...inline(l.replace(/^\d+[.)] /, ""))))));
    } else if (block.trim()) {
      root.append(h("p", null, ...inline(lines.join(" ").replace(/^#+\s*/, ""))));
    }
  }
  return root;
}
