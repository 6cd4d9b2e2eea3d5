// @ts-check
// Small accessible building blocks the portal's views share: a disclosure
// (a button with aria-expanded that shows and hides a region), a labelled
// field, a two-step confirm button and a copy button.

import { h } from "/dashboard/dom.js";

let ids = 0;
/** A unique element id. @param {string} prefix */
export const uid = (prefix) => `${prefix}-${++ids}`;

/**
 * A button that shows and hides `content` (built on first open), with
 * `aria-expanded` and `aria-controls` kept right.
 * @param {string} label visible text
 * @param {() => Node | Promise<Node>} content
 * @param {{ariaLabel?: string, className?: string}} [options]
 */
export function disclosure(label, content, options = {}) {
  const region = h("div", { id: uid("region"), class: "disclosed", hidden: true });
  const button = h("button", { type: "button", class: `disclosure ${options.className ?? "ghost"}`, "aria-expanded": "false", "aria-controls": region.id, "aria-label": options.ariaLabel }, label);
  let built = false;
  button.addEventListener("click", async () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    if (open && !built) {
      built = true;
      region.append(await content());
    }
    button.setAttribute("aria-expanded", String(open));
    region.hidden = !open;
  });
  return { button, region };
}

/**
 * `<label>` + control + optional hint, tied together by ids.
 * @param {string} label @param {HTMLElement} control @param {string} [hint]
 */
export function field(label, control, hint) {
  control.id ||= uid("field");
  const hintEl = hint ? h("div", { class: "hint", id: uid("hint") }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

/**
 * A button that asks to be pressed again (within 5 s) before it acts.
 * @param {string} label @param {string} again @param {string} ariaLabel @param {(b: HTMLButtonElement) => void} act
 */
export function confirmButton(label, again, ariaLabel, act, className = "") {
  const button = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: className, "aria-label": ariaLabel }, label));
  /** @type {ReturnType<typeof setTimeout> | null} */
  let armed = null;
  const reset = () => {
    if (armed) clearTimeout(armed);
    armed = null;
    button.textContent = label;
    button.classList.remove("armed");
    button.setAttribute("aria-label", ariaLabel);
  };
  button.addEventListener("click", () => {
    if (!armed) {
      button.textContent = again;
      button.setAttribute("aria-label", `${again}: ${ariaLabel}`);
      button.classList.add("armed");
      armed = setTimeout(reset, 5000);
      return;
    }
    reset();
    act(button);
  });
  return button;
}

/**
 * Copies `text()` to the clipboard; where the clipboard is not available (an
 * iframe without `allow="clipboard-write"`), shows the text in `target` and selects it so Ctrl+C works.
 * @param {string} ariaLabel @param {() => Promise<string>} text @param {HTMLElement} target
 */
export function copyButton(ariaLabel, text, target) {
  const button = h("button", { type: "button", "aria-label": ariaLabel }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(await text());
      button.textContent = "Copied";
    } catch {
      target.textContent = await text().catch(() => target.textContent ?? "");
      const range = document.createRange();
      range.selectNodeContents(target);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      button.textContent = "Press Ctrl+C";
    }
    setTimeout(() => (button.textContent = "Copy"), 2500);
  });
  return button;
}
