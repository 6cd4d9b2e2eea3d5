import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { describe, expect, it } from "vitest";
import {
  type WebhookVerificationErrorCode,
  verifyWebhook,
  verifyWebhookDetailed,
  verifyWebhookSignature,
  WebhookVerificationError,
} from "../../src/receiver/index.js";
import { loadVectors, OLD_SECRET, SECRET, signed } from "./helpers.js";

const { vectors, negative_cases } = loadVectors();
const v0 = vectors[0]!;
const at = (seconds: number) => () => seconds * 1000;

function vectorHeaders(v = v0): Record<string, string> {
  return { "webhook-id": v.id, "webhook-timestamp": String(v.timestamp), "webhook-signature": v.signature };
}

function codeOf(fn: () => unknown): WebhookVerificationErrorCode | "no error" {
  try {
    fn();
  } catch (err) {
    if (err instanceof WebhookVerificationError) return err.code;
    throw err;
  }
  return "no error";
}

describe("the Standard Webhooks test vectors", () => {
  it.each(vectors)("verifies $id and returns the parsed payload", (v) => {
    const payload = verifyWebhook(v.payload, vectorHeaders(v), v.secret, { now: at(v.timestamp) });
    expect(payload).toEqual(JSON.parse(v.payload));
  });

  it.each(vectors)("$id verifies from a Buffer body and under scheme 'standard'", (v) => {
    const meta = verifyWebhookSignature(Buffer.from(v.payload), vectorHeaders(v), v.secret, { now: at(v.timestamp), scheme: "standard" });
    expect(meta).toMatchObject({ scheme: "standard", id: v.id, timestamp: v.timestamp });
  });

  it.each(vectors)("$id fails with the other vector's secret", (v) => {
    const other = vectors.find((w) => w !== v)!;
    expect(codeOf(() => verifyWebhook(v.payload, vectorHeaders(v), other.secret, { now: at(v.timestamp) }))).toBe("invalid_signature");
  });

  it("covers the six negative cases the vectors file lists", () => {
    expect(negative_cases).toHaveLength(6);
  });
});

describe("negative cases", () => {
  const opts = { now: at(v0.timestamp) };

  it.each(["webhook-id", "webhook-timestamp", "webhook-signature"])("missing %s → missing_headers", (name) => {
    const headers = vectorHeaders();
    delete headers[name];
    expect(codeOf(() => verifyWebhook(v0.payload, headers, v0.secret, opts))).toBe("missing_headers");
    expect(codeOf(() => verifyWebhook(v0.payload, headers, v0.secret, { ...opts, scheme: "standard" }))).toBe("missing_headers");
  });

  it("no signature headers at all → missing_headers", () => {
    expect(codeOf(() => verifyWebhook(v0.payload, {}, v0.secret, opts))).toBe("missing_headers");
    expect(codeOf(() => verifyWebhook(v0.payload, {}, v0.secret, { scheme: "seed" }))).toBe("missing_headers");
  });

  it.each(["hello", "1614265330.5", "-1614265330", "", " "])("timestamp %j → invalid_timestamp (or missing when blank)", (ts) => {
    const code = codeOf(() => verifyWebhook(v0.payload, { ...vectorHeaders(), "webhook-timestamp": ts }, v0.secret, opts));
    expect(code).toBe(ts.trim() === "" ? "missing_headers" : "invalid_timestamp");
  });

  it.each(["v1,", v0.signature.slice(0, 8), "v1,g0hM9SsE", v0.signature.slice(0, -1), "v2" + v0.signature.slice(2), v0.signature.slice(3)])(
    "cut or altered signature %j → invalid_signature",
    (sig) => {
      expect(codeOf(() => verifyWebhook(v0.payload, { ...vectorHeaders(), "webhook-signature": sig }, v0.secret, opts))).toBe("invalid_signature");
    },
  );

  it("a header with only a non-matching signature → invalid_signature", () => {
    const headers = { ...vectorHeaders(), "webhook-signature": "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=" };
    expect(codeOf(() => verifyWebhook(v0.payload, headers, v0.secret, opts))).toBe("invalid_signature");
  });

  it("the timestamp tolerance is 300 s both ways, inclusive", () => {
    const h = vectorHeaders();
    expect(codeOf(() => verifyWebhook(v0.payload, h, v0.secret, { now: at(v0.timestamp + 300) }))).toBe("no error");
    expect(codeOf(() => verifyWebhook(v0.payload, h, v0.secret, { now: at(v0.timestamp - 300) }))).toBe("no error");
    expect(codeOf(() => verifyWebhook(v0.payload, h, v0.secret, { now: at(v0.timestamp + 301) }))).toBe("timestamp_too_old");
    expect(codeOf(() => verifyWebhook(v0.payload, h, v0.secret, { now: at(v0.timestamp - 301) }))).toBe("timestamp_too_new");
    expect(codeOf(() => verifyWebhook(v0.payload, h, v0.secret, { now: at(v0.timestamp + 3600), toleranceSeconds: 3600 }))).toBe("no error");
  });

  it("uses the real clock by default: the 2021 vector is too old today", () => {
    expect(codeOf(() => verifyWebhook(v0.payload, vectorHeaders(), v0.secret))).toBe("timestamp_too_old");
  });

  it.each(["", "whsec_", "   ", "whsec_!!!notbase64", "whsec_ab cd"])("secret %j → invalid_secret", (secret) => {
    expect(codeOf(() => verifyWebhook(v0.payload, vectorHeaders(), secret, opts))).toBe("invalid_secret");
  });

  it("an empty secret list → invalid_secret, and one bad secret in a list is reported", () => {
    expect(codeOf(() => verifyWebhook(v0.payload, vectorHeaders(), [], opts))).toBe("invalid_secret");
    expect(codeOf(() => verifyWebhook(v0.payload, vectorHeaders(), [v0.secret, ""], opts))).toBe("invalid_secret");
  });

  it("a tampered body → invalid_signature", () => {
    expect(codeOf(() => verifyWebhook(v0.payload.replace("2432", "2433"), vectorHeaders(), v0.secret, opts))).toBe("invalid_signature");
  });

  it("a signed body that is not JSON → invalid_payload, while the signature alone verifies", () => {
    const req = signed(undefined, { body: "not json" });
    expect(codeOf(() => verifyWebhook(req.body, req.headers, SECRET))).toBe("invalid_payload");
    expect(verifyWebhookSignature(req.body, req.headers, SECRET).scheme).toBe("standard");
  });

  it("an already parsed body is a TypeError that says why", () => {
    expect(() => verifyWebhook({ test: 1 } as unknown as string, vectorHeaders(), v0.secret, opts)).toThrow(/raw request body.*already parsed/);
  });

  it("the error carries the HTTP status a receiver should answer", () => {
    expect(new WebhookVerificationError("invalid_signature", "x").status).toBe(401);
    expect(new WebhookVerificationError("invalid_payload", "x").status).toBe(400);
    expect(new WebhookVerificationError("invalid_secret", "x").status).toBe(500);
  });
});

describe("signatures from our signer", () => {
  const payload = { type: "order.created", data: { id: "ord_1", total: 1799, note: "é ✓ \u2028" } };

  it("verify with standardwebhooks, svix and herald/receiver", () => {
    const req = signed(payload);
    expect(new StandardWebhook(SECRET).verify(req.body, req.headers)).toEqual(payload);
    expect(new SvixWebhook(SECRET).verify(req.body, req.headers)).toEqual(payload);
    expect(verifyWebhook(req.body, req.headers, SECRET)).toEqual(payload);
  });

  it("a rotation signs with both secrets; a receiver holding either one verifies", () => {
    const req = signed(payload, { secrets: [SECRET, OLD_SECRET] });
    expect(req.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    for (const secret of [SECRET, OLD_SECRET]) {
      expect(verifyWebhook(req.body, req.headers, secret)).toEqual(payload);
      expect(new StandardWebhook(secret).verify(req.body, req.headers)).toEqual(payload);
      expect(new SvixWebhook(secret).verify(req.body, req.headers)).toEqual(payload);
    }
    const stranger = "whsec_aGVyYWxkLXRlc3Qtc3RyYW5nZXItc2VjcmV0LTAx";
    expect(codeOf(() => verifyWebhook(req.body, req.headers, stranger))).toBe("invalid_signature");
  });

  it("a receiver holding several secrets accepts a request signed by any of them", () => {
    const stranger = "whsec_aGVyYWxkLXRlc3Qtc3RyYW5nZXItc2VjcmV0LTAx";
    const byOld = signed(payload, { secrets: [OLD_SECRET] });
    expect(verifyWebhook(byOld.body, byOld.headers, [stranger, OLD_SECRET])).toEqual(payload);
    expect(verifyWebhook(byOld.body, byOld.headers, [stranger, OLD_SECRET], { scheme: "seed" })).toEqual(payload);
    expect(codeOf(() => verifyWebhook(byOld.body, byOld.headers, [stranger, SECRET]))).toBe("invalid_signature");
  });

  it("secrets without the whsec_ prefix work for Standard Webhooks, as in the reference libraries", () => {
    const req = signed(payload);
    expect(verifyWebhook(req.body, req.headers, SECRET.slice("whsec_".length), { scheme: "standard" })).toEqual(payload);
  });
});

describe("the seed scheme (x-webhook-signature)", () => {
  const payload = { event: "order.status_updated", order: { reference: "ORD-000129", new_status: "delivered" } };
  const seedOnly = (headers: Record<string, string>) => ({ "x-webhook-signature": headers["x-webhook-signature"]!, "x-webhook-id": headers["x-webhook-id"]! });

  it("verifies with the whole secret string as the key, and reports scheme seed with the unsigned id", () => {
    const req = signed(payload, { id: "msg_seed" });
    const hook = verifyWebhookDetailed(req.body, seedOnly(req.headers), SECRET);
    expect(hook).toMatchObject({ scheme: "seed", id: "msg_seed", timestamp: undefined, payload });
    expect(verifyWebhook(req.body, req.headers, SECRET, { scheme: "seed" })).toEqual(payload);
  });

  it("the key is the UTF-8 string, not the decoded bytes", () => {
    const req = signed(payload);
    const decodedKeyAsString = Buffer.from(SECRET.slice(6), "base64").toString("latin1");
    expect(codeOf(() => verifyWebhook(req.body, seedOnly(req.headers), decodedKeyAsString))).toBe("invalid_signature");
  });

  it("accepts upper-case hex and rejects a tampered body or a cut signature", () => {
    const req = signed(payload);
    const h = seedOnly(req.headers);
    expect(verifyWebhook(req.body, { "x-webhook-signature": h["x-webhook-signature"].toUpperCase() }, SECRET)).toEqual(payload);
    expect(codeOf(() => verifyWebhook(req.body.replace("ORD", "ORE"), h, SECRET))).toBe("invalid_signature");
    expect(codeOf(() => verifyWebhook(req.body, { "x-webhook-signature": h["x-webhook-signature"].slice(0, 63) }, SECRET))).toBe("invalid_signature");
  });

  it("has no timestamp, so a request years old still verifies under 'seed' (why 'standard' is safer)", () => {
    const req = signed(payload, { timestamp: 1_000_000_000 });
    expect(verifyWebhook(req.body, req.headers, SECRET, { scheme: "seed" })).toEqual(payload);
    expect(codeOf(() => verifyWebhook(req.body, req.headers, SECRET, { scheme: "standard" }))).toBe("timestamp_too_old");
  });

  it("'auto' does not fall back to the seed scheme when a Standard Webhooks header is present but incomplete", () => {
    const req = signed(payload);
    const stripped = { ...req.headers };
    delete stripped["webhook-signature"];
    expect(codeOf(() => verifyWebhook(req.body, stripped, SECRET))).toBe("missing_headers");
    const stale = signed(payload, { timestamp: 1_000_000_000 });
    expect(codeOf(() => verifyWebhook(stale.body, stale.headers, SECRET))).toBe("timestamp_too_old");
  });
});

describe("headers and metadata", () => {
  const payload = { ok: true };

  it("reads fetch Headers, mixed-case objects and arrays of repeated headers", () => {
    const req = signed(payload, { secrets: [SECRET, OLD_SECRET] });
    expect(verifyWebhook(req.body, new Headers(req.headers), OLD_SECRET)).toEqual(payload);
    const mixed = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verifyWebhook(req.body, mixed, OLD_SECRET)).toEqual(payload);
    const [first, second] = req.headers["webhook-signature"]!.split(" ");
    expect(verifyWebhook(req.body, { ...req.headers, "webhook-signature": [first!, second!] }, OLD_SECRET)).toEqual(payload);
    // How Node folds a repeated header into one line.
    expect(verifyWebhook(req.body, { ...req.headers, "webhook-signature": `${first}, ${second}` }, OLD_SECRET)).toEqual(payload);
  });

  it("returns id, timestamp, event type and attempt", () => {
    const req = signed(payload, { id: "msg_meta", timestamp: 1_700_000_000, eventType: "pet.adopted", attempt: 3 });
    const hook = verifyWebhookDetailed(req.body, req.headers, SECRET, { now: at(1_700_000_100) });
    expect(hook).toEqual({ scheme: "standard", id: "msg_meta", timestamp: 1_700_000_000, eventType: "pet.adopted", attempt: 3, payload });
  });

  it("ignores signature entries of other versions and tolerates extra spaces", () => {
    const req = signed(payload);
    const sig = req.headers["webhook-signature"]!;
    const headers = { ...req.headers, "webhook-signature": `v1a,AAAA  ${sig}  ` };
    expect(verifyWebhook(req.body, headers, SECRET)).toEqual(payload);
  });

  it("rejects bad options up front", () => {
    const req = signed(payload);
    expect(() => verifyWebhook(req.body, req.headers, SECRET, { toleranceSeconds: -1 })).toThrow(TypeError);
    expect(() => verifyWebhook(req.body, req.headers, SECRET, { scheme: "v2" as "seed" })).toThrow(TypeError);
  });
});
