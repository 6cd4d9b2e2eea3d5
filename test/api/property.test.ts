import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routeTable } from "../../src/api/route-table.js";
import { ADMIN_KEY, openApi, type TestApi } from "./helpers.js";

/**
 * Whatever a client sends, the API answers a 2xx or a 4xx problem: never a 500,
 * and always in time. The last suite walks every route of the route table, so
 * routes added later are fuzzed too.
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

/** Answers within this long, or the test fails: no input may make a route hang. */
const HANG_MS = 5_000;

function withinTime<T>(work: Promise<T>, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${HANG_MS} ms: ${what()}`)), HANG_MS);
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 80 });
const idLike = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom("fuzz", "app_01ARZ3NDEKTSV4RRFFQ69G5FAV", "ep_01ARZ3NDEKTSV4RRFFQ69G5FAV", "msg_x", "key_", "%", "%zz", "..", "a/b", "*", "\u0000", "é"),
  printable,
);
const anyQuery = fc.dictionary(
  fc.oneof(fc.constantFrom("limit", "cursor", "status", "before", "after", "eventType", "since", "includeArchived", "app", "type", "endpointId"), fc.string({ maxLength: 10 })),
  fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom("-1", "0", "251", "1e3", "true", "2025-01-01T00:00:00Z", "app_01ARZ3NDEKTSV4RRFFQ69G5FAV")),
  { maxKeys: 4 },
);
const anyBody = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
  fc.constantFrom("{", "[]", "null", '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', "\u0000"),
  fc.record({ name: fc.string(), url: fc.string(), eventType: fc.string(), payload: fc.jsonValue({ maxDepth: 2 }), since: fc.string(), expiresIn: fc.integer() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
);
const anyContentType = fc.constantFrom(undefined, "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "");
const extraHeaders = fc.dictionary(
  fc.constantFrom("idempotency-key", "if-none-match", "accept", "x-forwarded-for", "content-encoding", "host", "x-anything"),
  printable,
  { maxKeys: 3 },
);

describe("property: every route, any request: never a 500, never a hang", () => {
  it("walks the route table with random ids, query strings, headers and bodies, as admin, portal token, or nobody", async () => {
    const token = (await t.call("POST", "/api/v1/applications/fuzz/portal-token")).body.token as string;
    const credentials = fc.constantFrom(`Bearer ${ADMIN_KEY}`, `Bearer ${token}`, "", "Bearer ", "Basic Zm9vOmJhcg==", `Bearer ${token}x`, `Bearer ${"a".repeat(2000)}`);
    const routes = routeTable(t.app);
    expect(routes.length).toBeGreaterThan(30);
    const started = Date.now();
    for (const route of routes) {
      await fc.assert(
        fc.asyncProperty(fc.array(idLike, { minLength: 3, maxLength: 3 }), anyQuery, anyBody, anyContentType, credentials, extraHeaders, async (ids, q, body, type, auth, extra) => {
          let i = 0;
          const path = route.url.replace(/:[A-Za-z0-9_]+|\*/g, () => encodeURIComponent(ids[i++ % ids.length]!));
          const qs = new URLSearchParams(q).toString();
          const url = qs ? `${path}?${qs}` : path;
          const headers: Record<string, string> = { ...extra, ...(auth ? { authorization: auth } : {}), ...(type ? { "content-type": type } : {}) };
          const res = await withinTime(
            t.app.inject({ method: route.method as never, url, headers, ...(body === undefined ? {} : { payload: body }) }),
            () => `${route.method} ${url}`,
          );
          noServerError(res.statusCode, { route: `${route.method} ${url}`, headers, body, res: res.body });
        }),
        { numRuns: 40, interruptAfterTimeLimit: 4_000 },
      );
    }
    // Bounded: the whole walk stays a few seconds on a 2-core machine.
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("unknown paths and methods, anywhere", async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"), fc.array(idLike, { maxLength: 5 }), fc.boolean(), async (method, segments, underApi) => {
        const url = `${underApi ? "/api/v1/" : "/"}${segments.map((s) => encodeURIComponent(s)).join("/")}`;
        const res = await withinTime(t.app.inject({ method: method as never, url, headers: { authorization: `Bearer ${ADMIN_KEY}` } }), () => `${method} ${url}`);
        noServerError(res.statusCode, { method, url, res: res.body });
      }),
      { numRuns: 200 },
    );
  });
});
