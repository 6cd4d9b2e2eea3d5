import type { Logger } from "pino";
import type { ApplicationId, EndpointId } from "../core/ids.js";
import type { KeyRing } from "./keys.js";
import { EndpointSealer } from "./sealing.js";
import type { Endpoint } from "../store/model.js";
import type { ClaimOptions, DeliveryJob, EndpointPatch, NewEndpoint, PageRequest, PublishOptions, PublishRequest, Store } from "../store/store.js";

/**
 * Encryption at rest as a Store decorator, so it works the same on every
 * backend: endpoint secrets and credentials are encrypted on the way in
 * (`createEndpoint`, `updateEndpoint`, `rotateEndpointSecret`) and decrypted in
 * every method that hands out endpoints, the delivery queue's included. Every
 * other method passes straight through.
 */

/** Depth-limited "does this type carry an Endpoint somewhere inside". */
type Next = [never, 0, 1, 2, 3];
type Carries<T, D extends number = 4> = [D] extends [never]
  ? false
  : T extends Endpoint
    ? true
    : T extends readonly (infer E)[]
      ? Carries<E, Next[D]>
      : T extends object
        ? true extends { [K in keyof T]-?: Carries<T[K], Next[D]> }[keyof T]
          ? true
          : false
        : false;

/**
 * Every Store method whose result carries an Endpoint. The decorator must
 * override each of them (the `satisfies` below fails to compile otherwise):
 * a new method that returns endpoints would hand out ciphertext.
 */
type EndpointMethods = {
  [K in keyof Store]: Store[K] extends (...args: never[]) => Promise<infer R> ? (true extends Carries<R> ? K : never) : never;
}[keyof Store];

/** Wraps a store so that endpoint secrets and credentials are encrypted at rest with `ring`. */
export function encryptingStore(inner: Store, ring: KeyRing): Store {
  const sealer = new EndpointSealer(ring);
  const open = (ep: Endpoint): Endpoint => sealer.openEndpoint(ep);
  const openOrNull = (ep: Endpoint | null): Endpoint | null => (ep === null ? null : open(ep));
  const openJob = (job: DeliveryJob): DeliveryJob => ({ ...job, endpoint: open(job.endpoint) });

  const overrides = {
    async createEndpoint(ep: NewEndpoint) {
      const sealed = {
        ...ep,
        url: sealer.sealUrl(ep.url, ep.id),
        secret: sealer.seal(ep.secret, ep.id),
        authentication: sealer.sealAuth(ep.authentication, ep.id),
      };
      return open(await inner.createEndpoint(sealed));
    },
    async getEndpoint(appId: ApplicationId, id: EndpointId) {
      return openOrNull(await inner.getEndpoint(appId, id));
    },
    async listEndpoints(appId: ApplicationId, page: PageRequest) {
      const result = await inner.listEndpoints(appId, page);
      return { ...result, data: result.data.map(open) };
    },
    async updateEndpoint(appId: ApplicationId, id: EndpointId, patch: EndpointPatch, now: number) {
      // A partial patch stays partial: only a credential that is sent is sealed (null clears it).
      const sealed = {
        ...patch,
        ...(patch.authentication ? { authentication: sealer.sealAuth(patch.authentication, id) } : {}),
        ...(patch.url === undefined ? {} : { url: sealer.sealUrl(patch.url, id) }),
      };
      return openOrNull(await inner.updateEndpoint(appId, id, sealed, now));
    },
    async setEndpointEnabled(appId: ApplicationId, id: EndpointId, enabled: boolean, now: number) {
      const change = await inner.setEndpointEnabled(appId, id, enabled, now);
      return change && { ...change, endpoint: open(change.endpoint) };
    },
    async rotateEndpointSecret(appId: ApplicationId, id: EndpointId, secret: string, previousExpiresAt: number, now: number) {
      // The store moves the stored (sealed) newest secret into `previous` as is: it stays bound to this endpoint.
      return openOrNull(await inner.rotateEndpointSecret(appId, id, sealer.seal(secret, id), previousExpiresAt, now));
    },
    async publish(batch: readonly PublishRequest[], options: PublishOptions) {
      const results = await inner.publish(batch, options);
      return results.map((r) => (r.jobs.length === 0 ? r : { ...r, jobs: r.jobs.map(openJob) }));
    },
    async claimDue(options: ClaimOptions) {
      return (await inner.claimDue(options)).map(openJob);
    },
  } satisfies { [K in EndpointMethods]: Store[K] };

  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(inner, {
    get(target, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof typeof overrides];
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      let fn = bound.get(prop);
      if (fn === undefined) {
        fn = value.bind(target);
        bound.set(prop, fn);
      }
      return fn;
    },
  });
}

/**
 * What `Herald.open` does with `HERALD_ENCRYPTION_KEY`: re-encrypts what is not
 * under the first key yet, says so, and returns the decorated store.
 */
export async function openEncrypted(inner: Store, ring: KeyRing, logger: Logger): Promise<Store> {
  const done = await reencryptEndpoints(inner, ring, Date.now());
  if (done.rewritten > 0) {
    logger.info({ endpoints: done.rewritten, key: ring.primary.id }, "encrypted endpoint secrets with the first HERALD_ENCRYPTION_KEY");
  }
  if (done.deferred > 0) {
    logger.warn(
      { endpoints: done.deferred, until: new Date(done.waitUntil ?? 0).toISOString() },
      "endpoints in a secret-rotation overlap keep their older key until it ends: keep that key listed, and restart after then to finish",
    );
  }
  return encryptingStore(inner, ring);
}

export interface ReencryptResult {
  /** Endpoints rewritten under the primary key (or encrypted for the first time). */
  rewritten: number;
  /**
   * Endpoints whose secrets wait: a rotation overlap is running (both secrets
   * sign), and the two cannot be rewritten in one step through the Store
   * interface without a moment where the wrong one is newest. They are
   * rewritten by the first start after `waitUntil`; keep the old key listed until then.
   */
  deferred: number;
  waitUntil: number | null;
}

/**
 * Brings every endpoint under the primary key: plain-text rows written before
 * encryption was enabled, and rows under a key that now comes second. Fails
 * (DecryptionError) when a row needs a key that is not listed. Run at start-up,
 * before the API listens; `updatedAt` is kept.
 */
export async function reencryptEndpoints(inner: Store, ring: KeyRing, now: number): Promise<ReencryptResult> {
  const sealer = new EndpointSealer(ring);
  const result: ReencryptResult = { rewritten: 0, deferred: 0, waitUntil: null };
  for await (const ep of allEndpoints(inner)) {
    const plain = sealer.openEndpoint(ep); // throws if a needed key is missing
    let changed = false;
    const patch: EndpointPatch = {
      ...(sealer.authIsCurrent(ep.authentication) ? {} : { authentication: sealer.sealAuth(plain.authentication, ep.id) }),
      ...(sealer.urlIsCurrent(ep.url) ? {} : { url: sealer.sealUrl(plain.url, ep.id) }),
    };
    if (Object.keys(patch).length > 0) {
      await inner.updateEndpoint(ep.appId, ep.id, patch, ep.updatedAt);
      changed = true;
    }
    if (!sealer.isCurrent(ep.secret) || !sealer.isCurrent(ep.previousSecret)) {
      const overlapEnds = ep.previousSecretExpiresAt ?? 0;
      if (ep.previousSecret !== null && overlapEnds > now) {
        result.deferred++;
        result.waitUntil = Math.max(result.waitUntil ?? 0, overlapEnds);
      } else {
        // Rotating to the same secret keeps it newest at every step; the
        // second rotation pushes out the old-key copy the first one moved
        // into `previous`. `previous` ends up an expired copy of the secret.
        const expired = Math.min(overlapEnds, now);
        const once = await inner.rotateEndpointSecret(ep.appId, ep.id, sealer.seal(plain.secret, ep.id), expired, ep.updatedAt);
        if (once && !sealer.isCurrent(once.previousSecret)) {
          await inner.rotateEndpointSecret(ep.appId, ep.id, sealer.seal(plain.secret, ep.id), expired, ep.updatedAt);
        }
        changed = true;
      }
    }
    if (changed) result.rewritten++;
  }
  return result;
}

async function* allEndpoints(store: Store): AsyncGenerator<Endpoint> {
  let appCursor: string | undefined;
  do {
    const apps = await store.listApplications({ limit: 250, cursor: appCursor });
    for (const app of apps.data) {
      let cursor: string | undefined;
      do {
        const page = await store.listEndpoints(app.id, { limit: 250, cursor });
        yield* page.data;
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    }
    appCursor = apps.nextCursor ?? undefined;
  } while (appCursor);
}
