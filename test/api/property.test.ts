import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApi, type TestApi } from "./helpers.js";

/**
 * Whatever a client sends, the API answers a 2xx or a 4xx problem: never a 500.
 */

let t: TestApi;
let ep: string;
beforeAll(async () => {
  t = await openApi();
  await t.call("POST", "/api/v1/applications", { name: "fuzz", uid: "fuzz" });
  ep = (await t.call("POST", "/api/v1/applications/fuzz/endpoints", { url: "https://example.com/" })).body.id;
});
afterAll(() => t.close());

const jsonish = fc.jsonValue({ maxDepth: 3 });
/** Bodies close enough to valid to get past the first check now and then. */
const publishBody = fc.oneof(
  jsonish,
  fc.record(
    {
      eventType: fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom("order.created", "a", ""), jsonish),
      payload: fc.oneof(fc.dictionary(fc.string(), jsonish), jsonish),
      id: fc.oneof(fc.string({ maxLength: 300 }), jsonish),
      channels: fc.oneof(fc.array(fc.string({ maxLength: 130 }), { maxLength: 12 }), jsonish),
      extra: jsonish,
    },
    { requiredKeys: [] },
  ),
);
const endpointBody = fc.record(
  {
    url: fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.string(), jsonish),
    description: fc.oneof(fc.string(), jsonish),
    events: fc.oneof(fc.array(fc.stringMatching(/^[a-z*.]{0,12}$/), { maxLength: 5 }), jsonish),
    channels: fc.oneof(fc.array(fc.string(), { maxLength: 11 }), jsonish),
    secret: fc.oneof(fc.string(), fc.base64String().map((b) => `whsec_${b}`), jsonish),
    headers: fc.oneof(fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })), jsonish),
    authentication: fc.oneof(
      fc.record({ type: fc.constantFrom("bearer", "basic", "header", "oauth2", "x"), token: fc.string(), name: fc.string(), value: fc.string(), tokenUrl: fc.string() }, { requiredKeys: ["type"] }),
      jsonish,
    ),
    timeoutMs: fc.oneof(fc.integer(), fc.double(), jsonish),
    rateLimit: fc.oneof(fc.integer(), jsonish),
    metadata: fc.oneof(fc.dictionary(fc.string(), fc.string()), jsonish),
    disabled: fc.oneof(fc.boolean(), jsonish),
  },
  { requiredKeys: [] },
);
const rawBody = fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.constant(""), fc.constant("{"));
const pathSegment = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("fuzz", "app_01ARZ3NDEKTSV4RRFFQ69G5FAV", "%", "%zz", "..", ""));
const query = fc.dictionary(fc.constantFrom("limit", "cursor", "status", "before", "after", "eventType", "since", "x"), fc.string({ maxLength: 30 }), { maxKeys: 4 });

const noServerError = (status: number, what: unknown) => expect(status, JSON.stringify(what)).toBeLessThan(500);

describe("property: no 500 for any input", () => {
  it("publish", async () => {
    await fc.assert(
      fc.asyncProperty(publishBody, fc.option(fc.string({ maxLength: 300 })), async (body, key) => {
        const res = await t.call("POST", "/api/v1/applications/fuzz/messages", body, key === null ? {} : { "idempotency-key": key });
        noServerError(res.status, { body, key, res: res.body });
      }),
      { numRuns: 300 },
    );
  });

  it("endpoint create and patch", async () => {
    await fc.assert(
      fc.asyncProperty(endpointBody, async (body) => {
        const created = await t.call("POST", "/api/v1/applications/fuzz/endpoints", body);
        noServerError(created.status, { body, res: created.body });
        const patched = await t.call("PATCH", `/api/v1/applications/fuzz/endpoints/${ep}`, body);
        noServerError(patched.status, { body, res: patched.body });
      }),
      { numRuns: 300 },
    );
  });

  it("raw bodies with any content type", async () => {
    await fc.assert(
      fc.asyncProperty(rawBody, fc.constantFrom("application/json", "text/plain", "application/json; charset=utf-8", "x/y", ""), async (body, type) => {
        for (const url of ["/api/v1/applications/fuzz/messages", "/api/v1/applications/fuzz/endpoints", `/api/v1/applications/fuzz/endpoints/${ep}/test`]) {
          const res = await t.call("POST", url, body, type ? { "content-type": type } : {});
          noServerError(res.status, { url, body, type, res: res.body });
        }
      }),
      { numRuns: 200 },
    );
  });

  it("ids and query strings", async () => {
    await fc.assert(
      fc.asyncProperty(pathSegment, pathSegment, query, async (app, id, q) => {
        const qs = new URLSearchParams(q).toString();
        const a = encodeURIComponent(app);
        for (const url of [
          `/api/v1/applications/${a}?${qs}`,
          `/api/v1/applications/${a}/messages?${qs}`,
          `/api/v1/applications/${a}/endpoints/${encodeURIComponent(id)}/attempts?${qs}`,
          `/api/v1/applications/fuzz/endpoints/${ep}/stats?${qs}`,
          `/api/v1/applications/fuzz/messages/${encodeURIComponent(id)}/attempts?${qs}`,
          `/api/v1/applications/${app}/endpoints/${id}`,
          `/api/v1/event-types?${qs}`,
        ]) {
          const res = await t.call("GET", url);
          noServerError(res.status, { url, res: res.body });
        }
      }),
      { numRuns: 200 },
    );
  });
});
