import {
  EndpointCreateBody,
  type EndpointCreateInput,
  EndpointPatchBody,
  type EndpointPatchInput,
  endpointPatch,
  newEndpoint,
} from "./endpoint-input.js";
import { hasMaskedCredentials, withoutCredentials } from "../core/broker-url.js";
import { checker } from "../core/validation.js";
import { HeraldError, invalid, notFound } from "../core/errors.js";
import { type EndpointId, isId } from "../core/ids.js";
import type { OperationalEvents } from "../ops/operational-events.js";
import { generateSecret, ROTATION_OVERLAP_MS, secretProblem } from "../signing/secret.js";
import type { Application, Endpoint } from "../store/model.js";
import type { Store } from "../store/store.js";


export interface EndpointWritesOptions {
  store: Store;
  /** Where changes are reported (operational events). Default: nowhere. */
  ops?: OperationalEvents | undefined;
  /**
   * The SSRF guard's verdict on a URL an endpoint will call: why it is refused,
   * or undefined. Default: none (only the URL's shape is checked; the sender
   * checks every attempt regardless).
   */
  checkUrl?: ((url: string) => Promise<string | undefined>) | undefined;
  /** Tells the local dispatcher that deliveries became due (recover). Default: nothing. */
  wake?: (() => void) | undefined;
}

const MASKED_ON_CREATE = "has *** for its password or token, which is how Herald shows a stored one: send the real one";
const MASKED_ON_UPDATE = `${MASKED_ON_CREATE}, or the URL exactly as Herald shows it to keep the stored one`;

const checkCreate = checker(EndpointCreateBody);
const checkPatch = checker(EndpointPatchBody);

/**
 * Every change to an endpoint, in one place for the HTTP API and the `Herald`
 * library: the checks (body schema, URL shape, reserved headers, secret format,
 * the SSRF guard), the store's write, and the operational event.
 *
 * Each state change is one conditional statement in the store, and an event is
 * emitted only when that statement changed something: a PATCH writes only the
 * fields it names (never the status a worker may have just changed), enable
 * and disable apply only to an endpoint in the other state, and recover
 * re-queues only while the endpoint is active. Callers pass an application
 * they have already resolved and authorized.
 *
 * @example
 * const writes = new EndpointWrites({ store, ops, checkUrl: (u) => guard.checkUrl(u) });
 * const ep = await writes.create(app, { url: "https://example.com/hooks" });
 * await writes.setEnabled(app, ep.id, false); // endpoint.disabled, reason manual
 */
export class EndpointWrites {
  constructor(private readonly options: EndpointWritesOptions) {}

  /** Creates an endpoint; the result holds the full secret. */
  async create(app: Application, input: EndpointCreateInput): Promise<Endpoint> {
    const checked = checkCreate(input);
    if (hasMaskedCredentials(checked.url)) throw invalid("/url", MASKED_ON_CREATE);
    const row = newEndpoint(app.id, checked, Date.now());
    await this.checkTargets(row);
    const endpoint = await this.options.store.createEndpoint(row);
    await this.options.ops?.endpoint("endpoint.created", app, endpoint);
    return endpoint;
  }

  /**
   * Writes the fields sent, and nothing else (`endpoint.updated` when there
   * were any); `disabled: true|false` then acts as `setEnabled`. A body with
   * nothing to change returns the endpoint as it is.
   */
  async update(app: Application, endpointId: string, input: EndpointPatchInput): Promise<Endpoint> {
    const id = endpointIdOf(endpointId);
    let checked = checkPatch(input);
    if (checked.url !== undefined && hasMaskedCredentials(checked.url)) {
      // The URL as the API shows it, sent back (an edit form): the stored credentials stay.
      if (withoutCredentials((await this.find(app, id)).url) !== checked.url) throw invalid("/url", MASKED_ON_UPDATE);
      const { url: _shown, ...rest } = checked;
      checked = rest;
    }
    const patch = endpointPatch(checked);
    await this.checkTargets(patch);
    const now = Date.now();
    let endpoint: Endpoint | null = null;
    if (Object.keys(patch).length > 0) {
      endpoint = await this.options.store.updateEndpoint(app.id, id, patch, now);
      if (!endpoint) throw notFound("endpoint", endpointId);
      await this.options.ops?.endpoint("endpoint.updated", app, endpoint);
    }
    if (checked.disabled !== undefined) return this.changeStatus(app, id, !checked.disabled, now);
    return endpoint ?? (await this.find(app, id));
  }

  /**
   * Enables (status active, failure state reset) or disables (reason `manual`).
   * Already in that state: a no-op, no event; disabling an endpoint the failure
   * rules disabled keeps their reason.
   */
  setEnabled(app: Application, endpointId: string, enabled: boolean): Promise<Endpoint> {
    return this.changeStatus(app, endpointIdOf(endpointId), enabled, Date.now());
  }

  /** Makes `secret` (or a new one) the newest; the previous one keeps signing for 24 h. */
  async rotateSecret(app: Application, endpointId: string, secret?: string): Promise<Endpoint> {
    const problem = secret === undefined ? undefined : secretProblem(secret);
    if (problem) throw invalid("/secret", problem);
    const id = endpointIdOf(endpointId);
    const now = Date.now();
    const rotated = await this.options.store.rotateEndpointSecret(app.id, id, secret ?? generateSecret(), now + ROTATION_OVERLAP_MS, now);
    if (!rotated) throw notFound("endpoint", endpointId);
    return rotated;
  }

  /** Deletes the endpoint with its deliveries and attempts. */
  async delete(app: Application, endpointId: string): Promise<void> {
    const id = endpointIdOf(endpointId);
    if (!(await this.options.store.deleteEndpoint(app.id, id))) throw notFound("endpoint", endpointId);
    await this.options.ops?.endpoint("endpoint.deleted", app, { id });
  }

  /**
   * Re-queues every failed or skipped delivery created since `since` (epoch ms);
   * 409 `conflict` while the endpoint is disabled, also when it is disabled
   * concurrently (the store checks the status in the re-queue itself).
   */
  async recover(app: Application, endpointId: string, since: number): Promise<number> {
    if (!Number.isFinite(since)) throw invalid("/since", "must be a valid time");
    const endpoint = await this.find(app, endpointIdOf(endpointId));
    requireActive(endpoint, "recover");
    const queued = await this.options.store.recover(endpoint.id, since, Date.now());
    // Disabled (or deleted) between the read above and the re-queue: 409 (or 404).
    if (queued === null) requireActive(await this.find(app, endpoint.id), "recover");
    if (queued) this.options.wake?.();
    return queued ?? 0;
  }

  private async changeStatus(app: Application, id: EndpointId, enabled: boolean, now: number): Promise<Endpoint> {
    const change = await this.options.store.setEndpointEnabled(app.id, id, enabled, now);
    if (!change) throw notFound("endpoint", id);
    if (change.changed) {
      await this.options.ops?.endpoint(enabled ? "endpoint.enabled" : "endpoint.disabled", app, change.endpoint, "manual");
    }
    return change.endpoint;
  }

  private async find(app: Application, id: EndpointId): Promise<Endpoint> {
    const endpoint = await this.options.store.getEndpoint(app.id, id);
    if (!endpoint) throw notFound("endpoint", id);
    return endpoint;
  }

  /** The SSRF guard's creation-time check of every URL the endpoint will call (422 naming the field). */
  private async checkTargets(fields: Pick<Partial<Endpoint>, "url" | "authentication">): Promise<void> {
    const { checkUrl } = this.options;
    if (!checkUrl) return;
    const auth = fields.authentication;
    const targets: [string, string | undefined][] = [
      ["/url", fields.url],
      ["/authentication/tokenUrl", auth?.type === "oauth2" ? auth.tokenUrl : undefined],
    ];
    for (const [path, url] of targets) {
      const problem = url === undefined ? undefined : await checkUrl(url);
      if (problem) throw new HeraldError("validation_failed", `${path}: ${problem}`, [{ path, message: problem }]);
    }
  }
}

/** A path's endpoint id; anything that is not an `ep_` id names no endpoint. */
function endpointIdOf(value: string): EndpointId {
  if (!isId("ep", value)) throw notFound("endpoint", value);
  return value;
}

/** Resend, recover and test would only record `skipped` deliveries for a disabled endpoint. */
export function requireActive(endpoint: Endpoint, action: string): void {
  if (endpoint.status === "disabled") {
    throw new HeraldError("conflict", `endpoint ${endpoint.id} is disabled (${endpoint.disabledReason ?? "manual"}); enable it first, then ${action}`);
  }
}
