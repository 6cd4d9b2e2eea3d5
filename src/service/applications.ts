import { type Static, Type } from "@sinclair/typebox";
import { notFound } from "../core/errors.js";
import { newId } from "../core/ids.js";
import { Metadata, Nullable, Strict } from "../core/schemas.js";
import { checker } from "../core/validation.js";
import type { Application } from "../store/model.js";
import type { Store } from "../store/store.js";
import { checkPortalSettings, PortalSettings } from "./portal-settings.js";

const Name = Type.String({ minLength: 1, maxLength: 256 });
/** Not `app_…`, so a path's `{app}` is never ambiguous between an id and a uid. */
const Uid = Type.String({
  pattern: "^(?!app_)[A-Za-z0-9_.-]{1,256}$",
  description: "a uid: 1–256 characters from A–Z, a–z, 0–9, '_', '.', '-', not starting with app_",
});
/** The consumer portal's theme and embedding (docs/portal.md); null resets it. */
const Portal = Type.Optional(Nullable(PortalSettings));

export const ApplicationCreateBody = Strict({ name: Name, uid: Type.Optional(Uid), metadata: Type.Optional(Metadata), portal: Portal });
export const ApplicationPatchBody = Strict({
  name: Type.Optional(Name),
  uid: Type.Optional(Nullable(Uid)),
  metadata: Type.Optional(Metadata),
  portal: Portal,
});
export type ApplicationCreateInput = Static<typeof ApplicationCreateBody>;
export type ApplicationPatchInput = Static<typeof ApplicationPatchBody>;

const checkCreate = checker(ApplicationCreateBody);
const checkPatch = checker(ApplicationPatchBody);

/**
 * Every change to an application, in one place for the HTTP API and the
 * `Herald` library: the body's schema (the HTTP API has already applied it;
 * the library's callers get the same checks and messages), the portal
 * settings' checks, and the store's write. A uid already taken is a 409
 * `conflict`: the store's unique index decides, race-free.
 */
export class ApplicationWrites {
  constructor(private readonly store: Store) {}

  async create(input: ApplicationCreateInput): Promise<Application> {
    const body = checkCreate(input);
    const now = Date.now();
    return this.store.createApplication({
      id: newId("app", now),
      name: body.name,
      uid: body.uid ?? null,
      metadata: body.metadata ?? {},
      portal: checkPortalSettings(body.portal, "/portal") ?? null,
      createdAt: now,
      updatedAt: now,
    });
  }

  /** Writes the fields sent, and nothing else. */
  async update(app: Application, input: ApplicationPatchInput): Promise<Application> {
    const body = checkPatch(input);
    const portal = checkPortalSettings(body.portal, "/portal");
    const updated = await this.store.updateApplication(app.id, { ...body, ...(portal === undefined ? {} : { portal }) }, Date.now());
    if (!updated) throw notFound("application", app.id);
    return updated;
  }

  /** Deletes the application with its endpoints, messages and attempts. */
  async delete(app: Application): Promise<void> {
    await this.store.deleteApplication(app.id);
  }
}
