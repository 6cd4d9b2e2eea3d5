import { HeraldError } from "../core/errors.js";
import { type ApplicationId, newId } from "../core/ids.js";
import { generateSecret, ROTATION_OVERLAP_MS } from "../signing/secret.js";
import type { Application, Endpoint } from "../store/model.js";
import type { Store } from "../store/store.js";

/**
 * The internal application that carries Herald's operational events: uid
 * `herald-operational`, with one endpoint (marked `metadata.herald =
 * "operational-webhook"`) at the configured URL. Being an ordinary application,
 * its deliveries are signed, retried and logged like any other, and show in
 * the dashboard.
 */

export const OPERATIONAL_APP_UID = "herald-operational";
const MARKER = { key: "herald", value: "operational-webhook" } as const;

export interface OperationalWebhook {
  url: string;
  /** The signing secret; generated on first set-up (and then kept) when unset. */
  secret: string | undefined;
}

async function ensureApplication(store: Store): Promise<Application> {
  const existing = await store.getApplication(OPERATIONAL_APP_UID);
  if (existing) return existing;
  const now = Date.now();
  try {
    return await store.createApplication({
      id: newId("app", now),
      uid: OPERATIONAL_APP_UID,
      name: "Herald operational events",
      metadata: { [MARKER.key]: "operational" },
      createdAt: now,
      updatedAt: now,
    });
  } catch (err) {
    // Another process created it first.
    if (!(err instanceof HeraldError && err.code === "conflict")) throw err;
    const app = await store.getApplication(OPERATIONAL_APP_UID);
    if (!app) throw err;
    return app;
  }
}

async function markedEndpoints(store: Store, appId: ApplicationId): Promise<Endpoint[]> {
  const page = await store.listEndpoints(appId, { limit: 250 });
  return page.data.filter((ep) => ep.metadata[MARKER.key] === MARKER.value).sort((a, b) => (a.id < b.id ? -1 : 1));
}

/**
 * Makes the internal application and its endpoint match the configuration:
 * creates them on first start, follows a changed URL, and rotates to a changed
 * secret (the old one keeps signing for 24 h, as any rotation). Safe when
 * several processes start at once. Returns the application's id.
 */
export async function ensureOperationalEndpoint(store: Store, webhook: OperationalWebhook): Promise<ApplicationId> {
  const app = await ensureApplication(store);
  let [endpoint, ...extra] = await markedEndpoints(store, app.id);
  const now = Date.now();
  if (!endpoint) {
    await store.createEndpoint({
      id: newId("ep", now),
      appId: app.id,
      url: webhook.url,
      description: "Herald's operational events (HERALD_OPERATIONAL_WEBHOOK_URL)",
      events: null,
      channels: null,
      filter: null,
      ordering: "none",
      transformation: null,
      status: "active",
      disabledReason: null,
      secret: webhook.secret ?? generateSecret(),
      headers: {},
      authentication: null,
      timeoutMs: null,
      rateLimit: null,
      metadata: { [MARKER.key]: MARKER.value },
      createdAt: now,
    });
    // Two processes may both have created one: the oldest wins, in every process.
    [endpoint, ...extra] = await markedEndpoints(store, app.id);
  }
  for (const ep of extra) await store.deleteEndpoint(app.id, ep.id);
  if (!endpoint) throw new Error("the operational webhook endpoint could not be created");
  if (endpoint.url !== webhook.url) await store.updateEndpoint(app.id, endpoint.id, { url: webhook.url }, now);
  if (webhook.secret !== undefined && endpoint.secret !== webhook.secret) {
    await store.rotateEndpointSecret(app.id, endpoint.id, webhook.secret, now + ROTATION_OVERLAP_MS, now);
  }
  return app.id;
}
