// @ts-check
// An application's write actions on its page: rename (name, uid), delete
// (with a second click), a consumer-portal link to copy, and expiring every
// portal link given so far (with a second click).

import { api, path } from "./api.js";
import { h, mount, when } from "./dom.js";
import { confirmButton, copyButton, field, formToggle } from "./forms.js";
import { busy, notify } from "./widgets.js";

/**
 * The buttons and the (hidden) edit form of an application.
 * @param {any} app
 * @param {{ onChanged: (app: any) => void, onDeleted: () => void }} on
 */
export function applicationActions(app, on) {
  const notices = h("div", { class: "notices", "aria-live": "polite" });
  const name = h("input", { id: "app-edit-name", type: "text", value: app.name, maxlength: 256 });
  const uid = h("input", { id: "app-edit-uid", type: "text", value: app.uid ?? "", maxlength: 256, placeholder: "none" });
  const save = h("button", { type: "submit", class: "primary", id: "app-save" }, "Save");
  const form = h("form", { class: "form inline-form", id: "app-edit", hidden: true }, field("Name", name), field("uid", uid, "Empty removes it."), h("div", { class: "form-actions" }, save));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(save, notices, async () => {
      const changed = await api("PATCH", path("applications", app.id), { name: name.value.trim(), uid: uid.value.trim() || null });
      on.onChanged(changed);
    });
  });
  const edit = formToggle(form, "app-edit-toggle", "Edit");

  const portalBox = h("div");
  const portal = h(
    "button",
    {
      type: "button",
      id: "portal-link",
      title: "A link to the consumer portal for this application, valid for a limited time",
      onclick: (e) =>
        busy(e.currentTarget, notices, async () => {
          const { url, expiresAt } = await api("POST", path("applications", app.id, "portal-token"), {});
          const code = h("code", { id: "portal-url" }, url);
          mount(
            portalBox,
            h(
              "div",
              { class: "secret", role: "status" },
              h("div", null, h("strong", null, "Consumer portal link"), ` for ${app.name}, valid until ${when(expiresAt)}. Whoever has it manages this application's endpoints: send it only to them.`),
              h("div", { class: "secret-row" }, code, copyButton(() => url, "Copy link", code), h("button", { type: "button", class: "ghost", onclick: () => mount(portalBox) }, "Hide")),
            ),
          );
        }),
    },
    "Portal link",
  );

  const expire = confirmButton("Expire portal links", "Click again: every portal link given so far stops working", "ghost", (b) =>
    busy(b, notices, async () => {
      await api("POST", path("applications", app.id, "portal-token", "expire-all"), {});
      mount(portalBox);
      notify(notices, "ok", "Every portal link of this application given until now has stopped working. New links work.");
    }),
  );
  expire.id = "portal-expire-all";

  const remove = confirmButton("Delete application", "Click again: delete it and everything in it", "danger", (b) =>
    busy(b, notices, async () => {
      await api("DELETE", path("applications", app.id));
      on.onDeleted();
    }),
  );
  remove.id = "app-delete";

  return {
    buttons: h("div", { class: "action-group" }, edit, portal, expire, remove),
    form,
    portalBox,
    notices,
    /** Shows a notice under the buttons. */
    say: (/** @type {string} */ tone, /** @type {any[]} */ ...content) => notify(notices, tone, ...content),
  };
}
