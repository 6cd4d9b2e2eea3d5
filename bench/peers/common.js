// What both peer webhook senders share: message ids the receiver can read the publish time from (the
// same `msg_` + time-sortable shape as Herald's), Standard Webhooks signing, and one undici Agent with
// keep-alive connections, as a sender written for throughput would have.
import { createHmac, randomBytes } from "node:crypto";
import { Agent } from "undici";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** `msg_` + 10 base32 characters of milliseconds + 16 random ones: bench/receiver.js reads the time back. */
export function messageId(now = Date.now()) {
  let time = "";
  for (let i = 0, t = now; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32] + time;
  let rest = "";
  for (const b of randomBytes(16)) rest += ALPHABET[b & 31];
  return `msg_${time}${rest}`;
}

/** A sender: POSTs a job's body to its URL, signed as Standard Webhooks sign (HMAC-SHA256 of id.timestamp.body). */
export function webhookSender({ connections = 64 } = {}) {
  const agent = new Agent({ connections, keepAliveTimeout: 60_000, pipelining: 1 });
  return {
    /** Throws on anything but a 2xx, so the queue retries it. */
    async send({ url, secret, id, body }) {
      const ts = Math.floor(Date.now() / 1000);
      const sig = createHmac("sha256", Buffer.from(secret, "base64")).update(`${id}.${ts}.`).update(body).digest("base64");
      const res = await agent.request({
        origin: new URL(url).origin,
        path: new URL(url).pathname,
        method: "POST",
        body,
        headers: { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${sig}` },
        headersTimeout: 15_000,
        bodyTimeout: 15_000,
      });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`${url} answered ${res.statusCode}`);
    },
    close: () => agent.close(),
  };
}

/** The jobs of one message: one per endpoint, each with what the sender needs (no lookups on the way). */
export function fanOut(endpoints, body, now = Date.now()) {
  const id = messageId(now);
  return endpoints.map((e) => ({ url: e.url, secret: e.secret, id, body }));
}
