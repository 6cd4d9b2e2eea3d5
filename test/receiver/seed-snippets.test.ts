import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type RequestListener, type Server } from "node:http";
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { verifyWebhook } from "../../src/receiver/index.js";
import { signatureHeaders, signer } from "../../src/signing/sign.js";
import { close, listen, OLD_SECRET, post, SECRET, seedText, signed } from "./helpers.js";

const require = createRequire(import.meta.url);
const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);
const squeeze = (text: string) => text.replace(/\s+/g, " ").trim();

/** The part of a fixture between its "seed 003" markers. */
function verbatimRegion(name: string): string {
  const text = readFileSync(fixture(name), "utf8");
  const m = /seed 003, verbatim ----\n([\s\S]*?)\n[^\n]*---- end of seed 003/.exec(text);
  if (!m) throw new Error(`${name} has no seed 003 region`);
  return m[1]!;
}

// The seed's own example payload and the secret its usage snippets hard-code.
const SEED_SECRET = "your_secret_key";
const order = {
  event: "order.status_updated",
  timestamp: "2026-05-09T12:00:00+02:00",
  order: { reference: "ORD-000129", old_status: "out_for_delivery", new_status: "delivered", amount: 1799, currency: "MAD" },
  customer: { name: "Karim Mansouri", city: "Casablanca" },
  items: [{ product_name: "Argivit Classic Tablets", sku: "MA-ArgivitClassic", quantity: 1, price: 1799 }],
};

describe("the fixtures are the seed's snippets, verbatim", () => {
  it.each(["seed-verify.cjs", "seed_verify.py"])("%s", (name) => {
    const region = squeeze(verbatimRegion(name));
    expect(region.length).toBeGreaterThan(150);
    expect(squeeze(seedText())).toContain(region);
  });
});

describe("the seed's Node snippet (Express, verifying JSON.stringify(req.body))", () => {
  const seed = require(fixture("seed-verify.cjs").pathname) as {
    app: RequestListener;
    verifyWebhook: (body: string, signature: string, secret: string) => boolean;
  };
  let server: Server | undefined;
  afterEach(async () => {
    if (server) await close(server);
    server = undefined;
  });
  async function serve(): Promise<string> {
    server = createServer(seed.app);
    return `${await listen(server)}/webhook`;
  }

  it("accepts x-webhook-signature from our signer, over real HTTP", async () => {
    const url = await serve();
    const res = await post(url, signed(order, { secrets: [SEED_SECRET] }));
    expect(res).toMatchObject({ status: 200, text: "processed" });
  });

  it("rejects a signature made with another secret, and a changed body", async () => {
    const url = await serve();
    expect(await post(url, signed(order, { secrets: ["not_the_secret"] }))).toMatchObject({ status: 401, text: "Invalid signature" });
    const req = signed(order, { secrets: [SEED_SECRET] });
    const changed = { ...req, body: req.body.replace("1799", "1899") };
    expect((await post(url, changed)).status).toBe(401);
  });

  it("works only because Herald sends compact JSON.stringify output", async () => {
    const url = await serve();
    const compact = signed(order, { secrets: [SEED_SECRET] });
    // What the snippet re-serializes is byte for byte what Herald sent…
    expect(JSON.stringify(JSON.parse(compact.body))).toBe(compact.body);
    expect((await post(url, compact)).status).toBe(200);
    // …while a sender that signs pretty-printed bytes fails it, though the signature is genuine.
    const pretty = signed(undefined, { secrets: [SEED_SECRET], body: JSON.stringify(order, null, 2) });
    expect((await post(url, pretty)).status).toBe(401);
    // herald/receiver checks the raw bytes, so it accepts both.
    for (const req of [compact, pretty]) expect(verifyWebhook(req.body, req.headers, SEED_SECRET, { scheme: "seed" })).toEqual(order);
  });

  it("its verifyWebhook accepts real Herald secrets, during a rotation the newest", () => {
    const req = signed(order, { secrets: [SECRET, OLD_SECRET] });
    const signature = req.headers["x-webhook-signature"]!;
    expect(seed.verifyWebhook(req.body, signature, SECRET)).toBe(true);
    expect(seed.verifyWebhook(req.body, signature, OLD_SECRET)).toBe(false);
    expect(seed.verifyWebhook(req.body.replace("MAD", "EUR"), signature, SECRET)).toBe(false);
  });
});

describe("the seed's Python snippet (python3, standard library only)", () => {
  function runPython(cases: { body: string; signature: string; secret: string }[]): boolean[] {
    const out = execFileSync("python3", [fixture("seed_verify.py").pathname], { input: JSON.stringify(cases), encoding: "utf8" });
    return JSON.parse(out) as boolean[];
  }

  it("verifies x-webhook-signature from our signer, and rejects what it should", () => {
    const body = JSON.stringify({ ...order, customer: { ...order.customer, note: "é ✓ 日本" } });
    const sig = (secret: string, b = body) => signatureHeaders([signer(secret)], "msg_py", 1_700_000_000, b)["x-webhook-signature"];
    const verdicts = runPython([
      { body, signature: sig(SECRET), secret: SECRET },
      { body, signature: sig(SEED_SECRET), secret: SEED_SECRET },
      { body, signature: sig(OLD_SECRET), secret: SECRET },
      { body: body.replace("ORD", "ORX"), signature: sig(SECRET), secret: SECRET },
      { body, signature: sig(SECRET).slice(0, 32), secret: SECRET },
    ]);
    expect(verdicts).toEqual([true, true, false, false, false]);
  });
});
