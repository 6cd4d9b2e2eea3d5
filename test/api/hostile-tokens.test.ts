import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/api/auth.js";
import { ADMIN_KEY, openApi, type TestApi } from "./helpers.js";

/**
 * Portal tokens in their canonical spelling only, and rate limits by the
 * verified principal (issue 8 §2.5): a token with `=` appended or `!` inserted
 * in its signature used to verify, each spelling with a bucket of its own.
 */

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Spellings that base64url decoding maps to the same signature bytes. */
function variants(token: string): string[] {
  const dot = token.lastIndexOf(".");
  const [body, sig] = [token.slice(0, dot), token.slice(dot + 1)];
  const last = sig.at(-1)!;
  // 43 characters carry 258 bits: the last one's 2 low bits are ignored by decoders.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const sameBits = alphabet[alphabet.indexOf(last) ^ 1]!;
  return [
    `${token}=`,
    `${token}==`,
    `${body}.${sig.slice(0, 10)}!${sig.slice(10)}`,
    `${body}.${sig.slice(0, 20)}=${sig.slice(20)}`,
    `${body}.${sig.slice(0, -1)}${sameBits}`,
    `${body}.${sig.replaceAll("-", "+").replaceAll("_", "/")}`,
  ].filter((v) => v !== token);
}

describe("portal tokens are accepted only as issued", () => {
  let t: TestApi;
  let appId: string;
  beforeAll(async () => {
    t = await openApi();
    appId = (await t.call("POST", "/api/v1/applications", { name: "Tok" })).body.id;
  });
  afterAll(() => t.close());

  it("refuses every other spelling of a valid signature with 401 unauthorized", async () => {
    const token = (await t.call("POST", `/api/v1/applications/${appId}/portal-token`)).body.token as string;
    expect((await t.call("GET", `/api/v1/applications/${appId}/endpoints`, undefined, bearer(token))).status).toBe(200);
    const spellings = variants(token);
    expect(spellings.length).toBeGreaterThanOrEqual(5); // the standard-alphabet spelling only when the signature has - or _
    for (const variant of spellings) {
      const res = await t.call("GET", `/api/v1/applications/${appId}/endpoints`, undefined, bearer(variant));
      expect(res.status, variant).toBe(401);
      expect(res.body.code).toBe("unauthorized");
    }
    // And nothing is created with one.
    const created = await t.call("POST", `/api/v1/applications/${appId}/endpoints`, { url: "https://example.com/" }, bearer(spellings[2]!));
    expect(created.status).toBe(401);
    expect((await t.store.listEndpoints(appId as never, { limit: 10 })).data).toEqual([]);
  });
});

describe("rate limits are keyed by the verified principal", () => {
  let t: TestApi;
  let appId: string;
  let otherAppId: string;
  beforeAll(async () => {
    // 2 per second, bursts of 4.
    t = await openApi({ HERALD_API_RATE_LIMIT: "2" });
    appId = (await t.store.createApplication({ id: "app_01ARZ3NDEKTSV4RRFFQ69G5FAV", uid: "rl-a", name: "a", metadata: {}, createdAt: 1, updatedAt: 1 })).id;
    otherAppId = (await t.store.createApplication({ id: "app_01ARZ3NDEKTSV4RRFFQ69G5FAW", uid: "rl-b", name: "b", metadata: {}, createdAt: 1, updatedAt: 1 })).id;
  });
  afterAll(() => t.close());

  it("spellings of the admin key share one bucket; another admin key has its own", async () => {
    const statuses: number[] = [];
    for (const auth of [`Bearer ${ADMIN_KEY}`, `bearer ${ADMIN_KEY}`, `BEARER\t${ADMIN_KEY}`, `Bearer  ${ADMIN_KEY} `, `Bearer ${ADMIN_KEY}`]) {
      statuses.push((await t.call("GET", "/api/v1/event-types", undefined, { authorization: auth })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    await t.store.createAdminKey({ id: "key_01ARZ3NDEKTSV4RRFFQ69G5FAV", name: "x", keyHash: sha256Hex("hk_second-key-second"), createdAt: Date.now() });
    expect((await t.call("GET", "/api/v1/event-types", undefined, bearer("hk_second-key-second"))).status).toBe(200);
  });

  it("an application's portal tokens share one bucket, publishing included; other applications are unaffected", async () => {
    const issue = async (app: string) => {
      const res = await t.call("POST", `/api/v1/applications/${app}/portal-token`, undefined, bearer("hk_second-key-second"));
      expect(res.status).toBe(201);
      return res.body.token as string;
    };
    const [one, two, other] = [await issue(appId), await issue(appId), await issue(otherAppId)];
    const publish = (token: string) => t.call("POST", "/api/v1/applications/rl-a/messages", { eventType: "a.b", payload: {} }, bearer(token));
    const statuses = [];
    for (const token of [one, two, one, two, one]) statuses.push((await publish(token)).status);
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
    const limited = await t.call("GET", "/api/v1/applications/rl-a/endpoints", undefined, bearer(two));
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ code: "rate_limited" });
    expect((await t.store.listMessages(appId as never, {}, { limit: 50 })).data).toHaveLength(4);
    // Variants of a token are no longer valid at all, so cannot open buckets of their own.
    expect((await t.call("GET", "/api/v1/applications/rl-a/endpoints", undefined, bearer(`${one}=`))).status).toBe(401);
    expect((await t.call("GET", "/api/v1/applications/rl-b/endpoints", undefined, bearer(other))).status).toBe(200);
  });

  it("an admin key's publishes stay unmetered (the producer's data plane)", async () => {
    for (let i = 0; i < 8; i++) {
      expect((await t.call("POST", "/api/v1/applications/rl-b/messages", { eventType: "a.b", payload: {} }, bearer("hk_second-key-second"))).status).toBe(202);
    }
  });
});
