import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApi, type TestApi } from "./helpers.js";

let t: TestApi;
const base = "/api/v1/applications/ordering/endpoints";
beforeAll(async () => {
  t = await openApi();
  await t.call("POST", "/api/v1/applications", { name: "Ordering", uid: "ordering" });
});
afterAll(() => t.close());

const create = (body: Record<string, unknown>) => t.call("POST", base, { url: "https://example.com/hook", ...body });

describe("endpoint ordering over the API", () => {
  it("is none by default, fifo when asked, and changed by PATCH", async () => {
    expect((await create({})).body.ordering).toBe("none");
    const res = await create({ ordering: "fifo" });
    expect(res.status).toBe(201);
    expect(res.body.ordering).toBe("fifo");
    const url = `${base}/${res.body.id}`;
    expect((await t.call("GET", url)).body.ordering).toBe("fifo");
    expect((await t.call("GET", base)).body.data.find((e: { id: string }) => e.id === res.body.id).ordering).toBe("fifo");
    expect((await t.call("PATCH", url, { description: "x" })).body.ordering).toBe("fifo");
    expect((await t.call("PATCH", url, { ordering: "none" })).body.ordering).toBe("none");
    expect((await t.call("GET", url)).body.ordering).toBe("none");
  });

  it("refuses anything else with a 422 at /ordering, on create and on PATCH", async () => {
    for (const ordering of ["FIFO", "ordered", 1, null]) {
      const res = await create({ ordering });
      expect(res.status).toBe(422);
      expect(res.body.code).toBe("validation_failed");
      expect(new Set(res.body.errors.map((e: { path: string }) => e.path))).toEqual(new Set(["/ordering"]));
    }
    const ok = await create({});
    const patch = await t.call("PATCH", `${base}/${ok.body.id}`, { ordering: "lifo" });
    expect(patch.status).toBe(422);
    expect(patch.body.errors.map((e: { path: string }) => e.path)).toEqual(["/ordering"]);
  });

  it("is described in the OpenAPI document", async () => {
    const text = JSON.stringify((await t.call("GET", "/openapi.json")).body);
    expect(text).toContain('"ordering"');
    expect(text).toContain('"fifo"');
  });
});
