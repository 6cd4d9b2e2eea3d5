import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openApi, type TestApi } from "./helpers.js";

let t: TestApi;
beforeAll(async () => {
  t = await openApi();
});
afterAll(() => t.close());

describe("applications", () => {
  it("creates, reads (by id and by uid), changes and deletes an application", async () => {
    const created = await t.call("POST", "/api/v1/applications", { name: "Shop", uid: "shop-1", metadata: { team: "a" } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^app_[0-9A-Z]{26}$/),
      name: "Shop",
      uid: "shop-1",
      metadata: { team: "a" },
      portal: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      updatedAt: expect.any(String),
    });
    const { id } = created.body;
    expect((await t.call("GET", `/api/v1/applications/${id}`)).body).toEqual(created.body);
    expect((await t.call("GET", "/api/v1/applications/shop-1")).body).toEqual(created.body);

    const patched = await t.call("PATCH", "/api/v1/applications/shop-1", { name: "Shop 2", uid: null });
    expect(patched).toMatchObject({ status: 200, body: { id, name: "Shop 2", uid: null, metadata: { team: "a" } } });
    expect((await t.call("GET", "/api/v1/applications/shop-1")).status).toBe(404);

    const deleted = await t.call("DELETE", `/api/v1/applications/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    const gone = await t.call("GET", `/api/v1/applications/${id}`);
    expect(gone).toMatchObject({ status: 404, body: { code: "not_found" } });
    expect(gone.body.detail).toContain("application");
  });

  it("answers 409 conflict for a uid already taken (create and patch)", async () => {
    await t.call("POST", "/api/v1/applications", { name: "a", uid: "taken" });
    const again = await t.call("POST", "/api/v1/applications", { name: "b", uid: "taken" });
    expect(again).toMatchObject({ status: 409, body: { code: "conflict" } });
    const other = await t.call("POST", "/api/v1/applications", { name: "c" });
    const patch = await t.call("PATCH", `/api/v1/applications/${other.body.id}`, { uid: "taken" });
    expect(patch).toMatchObject({ status: 409, body: { code: "conflict" } });
  });

  it("rejects uids that look like ids or hold odd characters", async () => {
    for (const uid of ["app_x", "has space", "", "x".repeat(257)]) {
      const res = await t.call("POST", "/api/v1/applications", { name: "x", uid });
      expect(res.status).toBe(422);
      expect(res.body.errors[0].path).toBe("/uid");
    }
  });

  it("answers 404 naming the application for an unknown id or uid", async () => {
    for (const ref of ["app_01ARZ3NDEKTSV4RRFFQ69G5FAV", "no-such-uid"]) {
      const res = await t.call("GET", `/api/v1/applications/${ref}`);
      expect(res).toMatchObject({ status: 404, body: { code: "not_found" } });
      expect(res.body.detail).toContain(ref);
    }
    expect((await t.call("PATCH", "/api/v1/applications/nope", { name: "x" })).status).toBe(404);
    expect((await t.call("DELETE", "/api/v1/applications/nope")).status).toBe(404);
  });
});

describe("pagination", () => {
  it("pages newest first with nextCursor until null", async () => {
    const fresh = await openApi();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) ids.push((await fresh.call("POST", "/api/v1/applications", { name: `a${i}` })).body.id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: { status: number; body: { data: { id: string }[]; nextCursor: string | null } } = await fresh.call(
          "GET",
          `/api/v1/applications?limit=3${cursor ? `&cursor=${cursor}` : ""}`,
        );
        expect(res.status).toBe(200);
        expect(res.body.data.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.data.map((a) => a.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).toBe(3);
      expect(seen).toEqual([...ids].reverse());
      const all = await fresh.call("GET", "/api/v1/applications");
      expect(all.body).toMatchObject({ nextCursor: null });
      expect(all.body.data).toHaveLength(7);
    } finally {
      await fresh.close();
    }
  });

  it("answers 422 for a bad limit or cursor", async () => {
    for (const query of ["limit=0", "limit=251", "limit=-1", "limit=1.5", "limit=abc", "limit=1&limit=2", "cursor=bogus", "cursor=ep_01ARZ3NDEKTSV4RRFFQ69G5FAV"]) {
      const res = await t.call("GET", `/api/v1/applications?${query}`);
      expect(res.status, query).toBe(422);
      expect(res.body.code).toBe("validation_failed");
      expect(res.body.errors[0].path).toMatch(/^query\./);
    }
    expect((await t.call("GET", "/api/v1/applications?limit=250")).status).toBe(200);
  });
});
