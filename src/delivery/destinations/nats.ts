import type { JetStreamClient, MsgHdrs, NatsConnection, TlsOptions } from "nats";
import type { NatsTarget } from "../../core/broker-url.js";
import type { AttemptErrorKind } from "../../store/model.js";
import type { Deadline } from "../deadline.js";
import { type BrokerAnswer, BrokerDestination, BrokerFailure, messageOf } from "./broker.js";
import type { PreparedAttempt } from "./destination.js";

/** The NATS client's connect errors (its own codes, not Node's). */
const CONNECT_KINDS: Record<string, AttemptErrorKind> = {
  CONNECTION_REFUSED: "connection_refused",
  AUTHORIZATION_VIOLATION: "auth",
  AUTHENTICATION_EXPIRED: "auth",
  TIMEOUT: "timeout",
  TLS: "tls",
};

class NatsLink {
  readonly js: JetStreamClient;

  constructor(
    readonly nc: NatsConnection,
    /** The client's `headers()`, from the module loaded on first use. */
    readonly headers: () => MsgHdrs,
  ) {
    this.js = nc.jetstream();
  }

  close(): Promise<void> {
    return this.nc.close().catch(() => undefined);
  }

  destroy(): void {
    // The client has no abrupt close; its close() flushes at most for its own timeout.
    void this.close();
  }
}

/**
 * `nats:` endpoints (NATS JetStream): each attempt is one JetStream publish
 * to the URL's subject. Success is the stream's acknowledgement (`PubAck`):
 * a stream that takes the subject stored the message; the attempt log keeps
 * the stream's name and the message's sequence. No stream for the subject
 * (NATS answers "no responders"), or a stream that refuses it, is a failed
 * attempt of kind `broker_rejected`.
 *
 * The message: the body bytes, with the headers of contract §4 as NATS
 * headers. Herald does not set `Nats-Msg-Id`: a retry is a new message, as an
 * HTTP retry is a new request; consumers dedup on `webhook-id`.
 *
 * The connection neither reconnects nor follows the cluster's gossip (other
 * servers' addresses would bypass the SSRF guard): one that drops is opened
 * again, checked again, by the next attempt.
 */
export class NatsDestination extends BrokerDestination<NatsTarget, NatsLink> {
  protected poolKey(t: NatsTarget): string {
    return JSON.stringify(["nats", t.tls, t.host, t.port, t.username, t.password]);
  }

  protected override secrets(t: NatsTarget): string[] {
    return t.password ? [t.password] : [t.username]; // a lone user part is a token
  }

  protected async open(t: NatsTarget, address: string, timeoutMs: number, forget: () => void): Promise<NatsLink> {
    const host = address.includes(":") ? `[${address}]` : address;
    // `nats://user:pass@…` is user and password; `nats://token@…`, a token.
    const auth = t.password ? { user: t.username, pass: t.password } : t.username ? { token: t.username } : {};
    // Loaded on first use: a Herald with no nats: endpoint never pays for the client.
    const { connect, headers } = await import("nats");
    // `tls:` requires TLS (the client refuses a server that does not offer it); `nats:` stays plain,
    // even with a server that offers TLS as an option.
    const tls = this.tlsOptions(t);
    const nc = await connect({
      servers: `${host}:${t.port}`,
      ...auth,
      // The client hands these to `tls.connect` as they are (its own type knows only file paths and strings).
      ...(tls ? { tls: tls as TlsOptions } : { tls: null }),
      name: "herald",
      timeout: timeoutMs,
      reconnect: false,
      ignoreClusterUpdates: true,
      noRandomize: true,
    }).catch((err: { code?: string; message?: string }) => {
      const kind = err.code ? CONNECT_KINDS[err.code] : undefined;
      // A plain connection (`tls: null`) to a server that requires TLS fails in the client's upgrade.
      if (kind === "tls" && !tls) throw new BrokerFailure("tls", `NATS at ${host}:${t.port} requires TLS: use a tls:// URL (tls://${t.host}:${t.port}/${t.subject})`);
      throw kind ? new BrokerFailure(kind, `NATS at ${host}:${t.port}: ${messageOf(err)}`) : err;
    });
    void nc.closed().then(forget, forget);
    return new NatsLink(nc, headers);
  }

  protected async publish(link: NatsLink, t: NatsTarget, req: PreparedAttempt, deadline: Deadline): Promise<BrokerAnswer> {
    const h = link.headers();
    for (const [name, value] of Object.entries(req.headers)) h.set(name, value);
    try {
      const ack = await link.js.publish(t.subject, Buffer.from(req.body), { headers: h, timeout: Math.max(1, deadline.at - Date.now()) });
      return { ok: true, answer: JSON.stringify({ stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate }) };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "503") {
        return { ok: false, kind: "broker_rejected", message: `no JetStream stream takes subject "${t.subject}" (NATS answered 503, no responders)` };
      }
      if (code === "TIMEOUT") return { ok: false, kind: "timeout", message: `no acknowledgement from JetStream for subject "${t.subject}" in time` };
      if (link.nc.isClosed()) throw err; // the connection: classified like any network failure
      return { ok: false, kind: "broker_rejected", message: `JetStream refused the message on subject "${t.subject}": ${messageOf(err)}` };
    }
  }
}
