// @ts-check
// What a missing, bad or expired link shows: that, and nothing else.

import { h } from "/dashboard/dom.js";

const TEXT = {
  missing: ["Open this page with your link", "This portal opens with the link you were given; it carries your access."],
  invalid: ["This link is not valid", "Ask for a new link where you found this one."],
  expired: ["This link has expired", "Links to this portal last a limited time. Ask for a new link where you found this one."],
};

/** @param {"missing" | "invalid" | "expired"} why */
export function renderLinkProblem(why) {
  const [title, text] = TEXT[why];
  return h("section", { class: "panel link-problem", "data-problem": why, role: "alert" }, h("h1", null, title), h("p", null, text));
}
