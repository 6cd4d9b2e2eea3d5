// @ts-check
// Form pieces the write actions share: labelled fields, a button that shows
// and hides a form, a button that asks for a second click, a copy button.

import { h } from "./dom.js";

const CONFIRM_FOR_MS = 5_000;

/**
 * A label above its control, with an optional hint under it.
 * @param {string} label
 * @param {HTMLElement} control (gets an id if it has none)
 * @param {string | Node | null} [hint]
 */
export function field(label, control, hint) {
  if (!control.id) control.id = `f-${Math.random().toString(36).slice(2, 9)}`;
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint ? h("div", { class: "hint" }, hint) : null);
}

/**
 * A button (`id`) that shows and hides `form`, keeping `aria-expanded` right;
 * focuses `focus`, if given, when the form opens.
 * @param {HTMLElement} form (has an id)
 * @param {string} id
 * @param {string} label
 * @param {HTMLElement} [focus]
 */
export function formToggle(form, id, label, focus) {
  const button = h("button", { type: "button", id, "aria-expanded": "false", "aria-controls": form.id }, label);
  button.addEventListener("click", () => {
    form.hidden = !form.hidden;
    button.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) focus?.focus();
  });
  return button;
}

/**
 * A button that asks "sure?" on the first click and acts on the second, within a few seconds.
 * @param {string} label
 * @param {string} confirmLabel
 * @param {string} className
 * @param {(button: HTMLButtonElement) => unknown} act
 */
export function confirmButton(label, confirmLabel, className, act) {
  const button = /** @type {HTMLButtonElement} */ (h("button", { type: "button", class: className }, label));
  /** @type {ReturnType<typeof setTimeout> | null} */
  let armed = null;
  const disarm = () => {
    armed = null;
    button.textContent = label;
    button.classList.remove("armed");
  };
  button.addEventListener("click", () => {
    if (!armed) {
      button.textContent = confirmLabel;
      button.classList.add("armed");
      armed = setTimeout(disarm, CONFIRM_FOR_MS);
      return;
    }
    clearTimeout(armed);
    disarm();
    act(button);
  });
  return button;
}

/**
 * Copies `text` to the clipboard; says "Copied" (or selects the text for a
 * manual copy when the clipboard is not available, as on plain http).
 * @param {() => string} text
 * @param {string} [label]
 * @param {HTMLElement | null} [fallback] element whose text to select
 */
export function copyButton(text, label = "Copy", fallback = null) {
  const button = h("button", { type: "button", class: "ghost copy" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text());
      button.textContent = "Copied";
    } catch {
      if (fallback) getSelection()?.selectAllChildren(fallback);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => (button.textContent = label), 2500);
  });
  return button;
}
