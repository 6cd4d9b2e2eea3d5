import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HeraldError } from "../../src/core/errors.js";
import { openTestHerald } from "../helpers/herald.js";
import { openApi, type TestApi } from "./helpers.js";

let t: TestApi;
const base = "/api/v1/applications/filters/endpoints";
beforeAll(async () => {
  t = await openApi();
  await t.call("POST", "/api/v1/applications", { name: "Filters", uid: "filters" });
});
afterAll(() => t.close());

const create = (body: Record<string, unknown>) => t.call("POST", base, { url: "https://example.com/hook", ...body });

describe("endpoint payload filters over the API", () => {
  it("stores, reads, changes and clears a filter", async () => {
    const filter = { "data.amount": { $gte: 100 }, $or: [{ "data.currency": "EUR" }, { "data.tags": { $regex: "(?i)^vip" } }] };
    const res = await create({ filter });
    expect(res.status).toBe(201);
    expect(res.body.filter).toEqual(filter);
    const url = `${base}/${res.body.id}`;
    expect((await t.call("GET", url)).body.filter).toEqual(filter);
    expect((await t.call("GET", base)).body.data.find((e: { id: string }) => e.id === res.body.id).filter).toEqual(filter);

    const patched = await t.call("PATCH", url, { filter: { type: "a" } });
    expect(patched.status).toBe(200);
    expect(patched.body.filter).toEqual({ type: "a" });
    expect((await t.call("PATCH", url, { description: "kept" })).body.filter).toEqual({ type: "a" });
    expect((await t.call("PATCH", url, { filter: null })).body.filter).toBeNull();
    expect((await t.call("PATCH", url, { filter: { a: 1 } })).body.filter).toEqual({ a: 1 });
    expect((await t.call("PATCH", url, { filter: {} })).body.filter).toBeNull();
    expect((await create({})).body.filter).toBeNull();
  });

  it("refuses an invalid filter with a 422 at the path of each fault, on create and on PATCH", async () => {
    const bad = { "data.amount": { $gt: true }, "data.note": { $regex: "(a)\\1" }, $or: [] };
    const res = await create({ filter: bad });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("validation_failed");
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(["/filter/data.amount/$gt", "/filter/data.note/$regex", "/filter/$or"]);

    const ok = await create({ filter: { a: 1 } });
    const patch = await t.call("PATCH", `${base}/${ok.body.id}`, { filter: { a: { $in: 3 } } });
    expect(patch.status).toBe(422);
    expect(patch.body.errors).toEqual([{ path: "/filter/a/$in", message: expect.stringMatching(/list/) }]);
    expect((await t.call("GET", `${base}/${ok.body.id}`)).body.filter).toEqual({ a: 1 });

    for (const notAnObject of [[], "x", 3]) {
      const r = await create({ filter: notAnObject });
      expect(r.status).toBe(422);
      expect(r.body.errors[0].path).toBe("/filter");
    }
  });

  it("creates deliveries only for endpoints whose filter matches the payload", async () => {
    await t.call("POST", "/api/v1/applications", { name: "Fan-out", uid: "fanout" });
    const eps = "/api/v1/applications/fanout/endpoints";
    const all = (await t.call("POST", eps, { url: "https://example.com/all" })).body.id;
    const big = (await t.call("POST", eps, { url: "https://example.com/big", filter: { "data.amount": { $gte: 100 } } })).body.id;
    const eur = (await t.call("POST", eps, { url: "https://example.com/eur", filter: { "data.currency": "EUR" } })).body.id;
    const publish = async (data: unknown) => {
      const res = await t.call("POST", "/api/v1/applications/fanout/messages", { eventType: "order.paid", payload: { data } });
      expect(res.status).toBe(202);
      return (await t.store.listDeliveries(res.body.id)).map((d) => d.endpointId).sort();
    };
    expect(await publish({ amount: 150, currency: "EUR" })).toEqual([all, big, eur].sort());
    expect(await publish({ amount: 50, currency: "EUR" })).toEqual([all, eur].sort());
    expect(await publish({ amount: "150", currency: "USD" })).toEqual([all]);
  });
});

describe("endpoint payload filters through the library", () => {
  it("checks the filter as the API does", async () => {
    const h = await openTestHerald();
    try {
      const app = await h.herald.createApplication({ name: "lib" });
      const ep = await h.herald.createEndpoint(app.id, { url: "https://example.com/lib", filter: { "data.kind": { $in: ["a", "b"] } } });
      expect(ep.filter).toEqual({ "data.kind": { $in: ["a", "b"] } });
      const err = await h.herald.updateEndpoint(app.id, ep.id, { filter: { "data.kind": { $nope: 1 } } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HeraldError);
      expect((err as HeraldError).code).toBe("validation_failed");
      expect((err as HeraldError).errors).toEqual([{ path: "/filter/data.kind/$nope", message: expect.stringMatching(/unknown operator/) }]);
    } finally {
      await h.close();
    }
  });
});
