import fc from "fast-check";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyWebhook, WebhookVerificationError } from "../../src/receiver/index.js";
import { generateSecret } from "../../src/signing/secret.js";
import { signatureHeaders, signer } from "../../src/signing/sign.js";

const arbRequest = fc.record({
  payload: fc.jsonValue(),
  id: fc.stringMatching(/^msg_[0-9A-Z]{1,26}$/),
  skew: fc.integer({ min: -300, max: 300 }),
  bytes: fc.integer({ min: 24, max: 64 }),
});

describe("any payload our signer signs", () => {
  it("verifies with herald/receiver and standardwebhooks, under both schemes", () => {
    fc.assert(
      fc.property(arbRequest, ({ payload, id, skew, bytes }) => {
        const secret = generateSecret(bytes);
        const now = Math.floor(Date.now() / 1000);
        const body = JSON.stringify(payload);
        const headers = { ...signatureHeaders([signer(secret)], id, now + skew, body) };
        const expected = JSON.parse(body);
        expect(verifyWebhook(body, headers, secret)).toEqual(expected);
        expect(verifyWebhook(body, headers, secret, { scheme: "seed" })).toEqual(expected);
        expect(new StandardWebhook(secret).verify(body, headers)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("fails once any byte of the body changes", () => {
    fc.assert(
      fc.property(arbRequest, fc.nat(), fc.integer({ min: 1, max: 255 }), ({ payload, id }, at, flip) => {
        const secret = generateSecret();
        const body = Buffer.from(JSON.stringify(payload));
        const headers = { ...signatureHeaders([signer(secret)], id, Math.floor(Date.now() / 1000), body.toString()) };
        const tampered = Buffer.from(body);
        const i = at % tampered.length;
        tampered[i] = tampered[i]! ^ flip;
        for (const scheme of ["standard", "seed"] as const) {
          let code: string | undefined;
          try {
            verifyWebhook(tampered, headers, secret, { scheme });
          } catch (err) {
            if (!(err instanceof WebhookVerificationError)) throw err;
            code = err.code;
          }
          expect(code).toBe("invalid_signature");
        }
      }),
      { numRuns: 200 },
    );
  });
});
