import { credentialOf, mapCredential } from "../core/broker-url.js";
import type { Endpoint, EndpointAuthentication } from "../store/model.js";
import { decrypt, encrypt, type KeyRing, keyIdOf } from "./keys.js";

/**
 * Which fields of an endpoint are sealed (encrypted at rest), and how: the
 * secrets (newest and previous), the secret part of its authentication
 * (`token`, `password`, header `value`, `clientSecret`), and a broker URL's
 * credential as `withoutCredentials` masks it, its password or else a lone
 * user part (a NATS token), sealed in place, the rest of the URL readable.
 * Names, user names, client ids and token URLs stay readable. Every value is
 * bound to its endpoint's id.
 */

type AuthField = "token" | "password" | "value" | "clientSecret";

const SECRET_FIELD: Record<EndpointAuthentication["type"], AuthField> = {
  bearer: "token",
  basic: "password",
  header: "value",
  oauth2: "clientSecret",
};

const OPEN_CACHE = 10_000;
const CACHEABLE_LENGTH = 512;

export class EndpointSealer {
  /** Decrypting is cheap but runs for every claimed job: the hot path reads from here. */
  private readonly opened = new Map<string, string>();

  constructor(readonly ring: KeyRing) {}

  seal(value: string, endpointId: string): string {
    return encrypt(this.ring, value, endpointId);
  }

  open(value: string, endpointId: string): string {
    // Long values (a credential may be 4 KiB) are decrypted each time rather than kept twice.
    if (value.length > CACHEABLE_LENGTH) return decrypt(this.ring, value, endpointId);
    const cacheKey = `${endpointId}\u0000${value}`;
    let plain = this.opened.get(cacheKey);
    if (plain === undefined) {
      plain = decrypt(this.ring, value, endpointId);
      if (this.opened.size >= OPEN_CACHE) this.opened.clear();
      this.opened.set(cacheKey, plain);
    }
    return plain;
  }

  sealAuth(auth: EndpointAuthentication | null, endpointId: string): EndpointAuthentication | null {
    return mapSecret(auth, (v) => this.seal(v, endpointId));
  }

  openAuth(auth: EndpointAuthentication | null, endpointId: string): EndpointAuthentication | null {
    return mapSecret(auth, (v) => this.open(v, endpointId));
  }

  /** A URL with its credential (password, or lone user part) sealed in place; one without as it is. */
  sealUrl(url: string, endpointId: string): string {
    return mapCredential(url, (v) => this.seal(v, endpointId));
  }

  openUrl(url: string, endpointId: string): string {
    return mapCredential(url, (v) => this.open(v, endpointId));
  }

  /** An endpoint as stored → as Herald uses it. */
  openEndpoint(ep: Endpoint): Endpoint {
    return {
      ...ep,
      url: this.openUrl(ep.url, ep.id),
      secret: this.open(ep.secret, ep.id),
      previousSecret: ep.previousSecret === null ? null : this.openPrevious(ep),
      authentication: this.openAuth(ep.authentication, ep.id),
    };
  }

  /**
   * A previous secret past its overlap signs nothing; when its key was retired
   * it reads as absent rather than failing the whole row.
   */
  private openPrevious(ep: Endpoint): string | null {
    try {
      return this.open(ep.previousSecret!, ep.id);
    } catch (err) {
      if ((ep.previousSecretExpiresAt ?? 0) <= Date.now()) return null;
      throw err;
    }
  }

  /** True when a stored value is absent or encrypted with the primary key (false for plain text and older keys). */
  isCurrent(value: string | null): boolean {
    return value === null || keyIdOf(value) === this.ring.primary.id;
  }

  /** The same for the secret part of an endpoint's authentication. */
  authIsCurrent(auth: EndpointAuthentication | null): boolean {
    return auth === null || this.isCurrent(secretOf(auth));
  }

  /** The same for a broker URL's password or token. */
  urlIsCurrent(url: string): boolean {
    return this.isCurrent(credentialOf(url));
  }
}

function secretOf(auth: EndpointAuthentication): string {
  return (auth as unknown as Record<AuthField, string>)[SECRET_FIELD[auth.type]];
}

function mapSecret(auth: EndpointAuthentication | null, f: (value: string) => string): EndpointAuthentication | null {
  if (auth === null) return null;
  const field = SECRET_FIELD[auth.type];
  if (field === undefined) return auth;
  return { ...auth, [field]: f(secretOf(auth)) } as EndpointAuthentication;
}
