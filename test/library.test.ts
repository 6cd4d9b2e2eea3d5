import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HeraldError } from "../src/core/errors.js";
import type { Herald } from "../src/herald.js";
import { type Receiver, startReceiver } from "./helpers/receiver.js";
import { eventually, openTestHerald } from "./helpers/herald.js";

describe("Herald as a library", () => {
  let herald: Herald;
  let close: () => Promise<void>;
  let receiver: Receiver;

  beforeEach(async () => {
    ({ herald, close } = await openTestHerald());
    await herald.start();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await close();
    await receiver.close();
  });

  it("manages applications and endpoints and publishes, with the API's checks", async () => {
    const app = await herald.createApplication({ name: "Shop", uid: "shop" });
    expect(app.id).toMatch(/^app_/);
    const ep = await herald.createEndpoint("shop", { url: `${receiver.url}/hook`, events: ["order.*"] });
    expect(ep.secret).toMatch(/^whsec_/);

    const err = await herald.createEndpoint("shop", { url: "ftp://example.test/" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HeraldError);
    expect((err as HeraldError).code).toBe("validation_failed");
    expect((err as HeraldError).errors?.[0]?.path).toBe("/url");
    await expect(herald.createEndpoint("nope", { url: receiver.url })).rejects.toMatchObject({ code: "not_found" });

    const order = { id: "ord_1", total: "12.50" };
    const first = await herald.publish({ app: "shop", eventType: "order.created", payload: order, idempotencyKey: "ord_1-created" });
    const again = await herald.publish({ app: app.id, eventType: "order.created", payload: order, idempotencyKey: "ord_1-created" });
    expect(again.message.id).toBe(first.message.id);
    const [req] = await receiver.waitFor(1);
    expect(req!.body).toBe(JSON.stringify(order));

    await herald.setEndpointEnabled("shop", ep.id, false);
    const skipped = await herald.publish({ app: "shop", eventType: "order.paid", payload: { id: "ord_1" } });
    expect((await herald.store.listDeliveries(skipped.message.id))[0]!.status).toBe("skipped");
    await expect(herald.recover("shop", ep.id, new Date(0))).rejects.toMatchObject({ code: "conflict" });
    await herald.setEndpointEnabled("shop", ep.id, true);
    expect(await herald.recover("shop", ep.id, new Date(0))).toBe(1);
    await receiver.waitFor(2);
    await eventually(async () => (await herald.store.listDeliveries(skipped.message.id))[0]!.status === "succeeded");

    const updated = await herald.updateEndpoint("shop", ep.id, { description: "orders" });
    expect(updated.description).toBe("orders");
    await expect(
      herald.publish({ app: "shop", eventType: "x.y", payload: { big: "x".repeat(300_000) } }),
    ).rejects.toMatchObject({ code: "payload_too_large" });
    await herald.deleteEndpoint("shop", ep.id);
    await expect(herald.endpoint("shop", ep.id)).rejects.toMatchObject({ code: "not_found" });
  });

  it("checks a message as the HTTP API does, with the API's words: the event type, the size, channels once each", async () => {
    await herald.createApplication({ name: "Checks", uid: "checks" });
    const bad = await herald.publish({ app: "checks", eventType: "order created!", payload: {} }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ code: "validation_failed", errors: [{ path: "/eventType", message: expect.stringMatching(/event type name/) }] });
    await expect(herald.publish({ app: "checks", eventType: "x.y", payload: { big: "x".repeat(300_000) } })).rejects.toThrow(
      /^the payload is 300010 bytes of JSON; the limit is 262144 \(HERALD_MAX_PAYLOAD_BYTES\)$/,
    );
    const { message } = await herald.publish({ app: "checks", eventType: "x.y", payload: {}, channels: ["eu", "eu", "us"] });
    expect(message.channels).toEqual(["eu", "us"]);
  });

  it("checks a new application as the HTTP API does: its name, uid and portal settings", async () => {
    for (const [input, path] of [
      [{ name: "" }, "/name"],
      [{ name: "Shop", uid: "app_01JD9ZB2N8" }, "/uid"], // would read as an application id
      [{ name: "Shop", uid: "has space" }, "/uid"],
      [{ name: "Shop", portal: { accentColor: "red" } }, "/portal/accentColor"],
      [{ name: "Shop", portal: { logoUrl: "https://[bad" } }, "/portal/logoUrl"],
      [{ name: "Shop", extra: true }, "/extra"],
    ] as const) {
      const err = await herald.createApplication(input as never).catch((e: unknown) => e);
      expect(err, JSON.stringify(input)).toBeInstanceOf(HeraldError);
      expect((err as HeraldError).code).toBe("validation_failed");
      expect((err as HeraldError).errors?.[0]?.path, JSON.stringify(input)).toBe(path);
    }
    const app = await herald.createApplication({ name: "Shop", uid: "shop", portal: { accentColor: "#0a7d3b" } });
    expect(await herald.application("shop")).toMatchObject({ id: app.id, portal: { accentColor: "#0a7d3b" } });
    await expect(herald.createApplication({ name: "Shop again", uid: "shop" })).rejects.toMatchObject({ code: "conflict" });
    expect((await herald.store.listApplications({ limit: 10 })).data.map((a) => a.name)).toEqual(["Shop"]);
  });
});
