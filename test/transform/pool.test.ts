import { afterAll, describe, expect, it } from "vitest";
import { TransformPool } from "../../src/transform/pool.js";
import { transform } from "../../src/transform/run.js";
import type { WebhookInput } from "../../src/transform/webhook.js";

const pool = new TransformPool({ threads: 2, limits: { timeoutMs: 100 } });
afterAll(() => pool.close());

const input: WebhookInput = {
  method: "POST",
  url: "https://example.com/hooks",
  eventType: "order.created",
  headers: { "x-tenant": "t1" },
  payload: JSON.stringify({ id: "ord_1", amount: 250, items: [1, 2] }),
};

const run = (code: string, scope = "ep_test") => transform(pool, scope, code, input);
const fails = async (code: string) => {
  const outcome = await run(code);
  expect(outcome.ok).toBe(false);
  return (outcome as { message: string }).message;
};

describe("transformation handlers in the sandbox", () => {
  it("changes the payload, a header, the method and the url", async () => {
    const outcome = await run(`function handler(webhook) {
      webhook.payload = { orderId: webhook.payload.id, cents: webhook.payload.amount * 100 };
      webhook.headers["x-source"] = "herald";
      webhook.method = "put";
      webhook.url = "https://example.com/other?x=1";
      return webhook;
    }`);
    expect(outcome).toEqual({
      ok: true,
      webhook: {
        method: "PUT",
        url: "https://example.com/other?x=1",
        eventType: "order.created",
        headers: { "x-tenant": "t1", "x-source": "herald" },
        payload: { orderId: "ord_1", cents: 25000 },
        body: '{"orderId":"ord_1","cents":25000}',
        cancel: false,
      },
    });
  });

  it("may cancel", async () => {
    const outcome = await run("function handler(webhook) { webhook.cancel = webhook.payload.amount > 100; return webhook; }");
    expect(outcome.ok && outcome.webhook.cancel).toBe(true);
  });

  it.each([
    ["a throw", "function handler(w) { return w.nothing.here; }", /^handler threw: TypeError: .*undefined/],
    ["a thrown string", "function handler(w) { throw 'no'; }", /^handler threw: /],
    ["an endless loop", "function handler(w) { while (true) {} }", /^timed out after 100 ms$/],
    ["an endless loop at load", "while (true) {}", /^timed out after 100 ms$/],
    ["huge memory", "function handler(w) { w.x = 'x'.repeat(64 * 1024 * 1024); return w; }", /^ran out of memory \(the limit is 16 MiB\)$/],
    ["deep recursion", "function handler(w) { const f = (n) => f(n + 1) + 1; return f(0); }", /^stack overflow/],
    ["undefined", "function handler(w) {}", /^handler threw: TypeError: handler returned undefined instead of the webhook object$/],
    ["a string", "function handler(w) { return 'hi'; }", /^handler threw: TypeError: handler returned a string/],
    ["a promise", "async function handler(w) { return w; }", /handlers are synchronous/],
    ["no handler", "const x = 1;", /the code must define function handler\(webhook\)/],
    ["a syntax error", "function handler(w) { return w", /^the code failed to load: SyntaxError: /],
    ["an array payload", "function handler(w) { w.payload = [1]; return w; }", /^handler returned an invalid webhook: payload must be a JSON object$/],
    ["a bad url", "function handler(w) { w.url = 'ftp://x'; return w; }", /^handler returned an invalid webhook: url must use http, https, amqp, amqps, nats, tls, redis or rediss$/],
    ["a bad method", "function handler(w) { w.method = 'GET'; return w; }", /method must be POST, PUT or PATCH/],
    ["a signature header", "function handler(w) { w.headers['webhook-signature'] = 'v1,x'; return w; }", /header webhook-signature is set by Herald/],
    ["a bad header value", "function handler(w) { w.headers['x-a'] = 'a\\nb'; return w; }", /header x-a must be a string of printable ASCII/],
    ["a non-boolean cancel", "function handler(w) { w.cancel = 'yes'; return w; }", /cancel must be true or false/],
  ])("fails on %s, saying why", async (_name, code, message) => {
    expect(await fails(code)).toMatch(message);
  });

  it.each(["require", "process", "fetch", "setTimeout", "setInterval", "console", "globalThis.std", "globalThis.os", "XMLHttpRequest", "WebAssembly"])(
    "has no %s",
    async (name) => {
      const outcome = await run(`function handler(w) { w.payload = { t: typeof ${name} }; return w; }`);
      expect(outcome.ok && outcome.webhook.payload).toEqual({ t: "undefined" });
    },
  );

  it("stops a thread that QuickJS does not interrupt in time, and goes on with a new one", async () => {
    // Many allocations near the memory limit keep QuickJS from reaching its interrupt check for seconds:
    // the pool's own deadline (twice the limit plus a second) ends the thread.
    const started = performance.now();
    expect(await fails("function handler(w) { const a = []; for (;;) a.push(new ArrayBuffer(1 << 20)); }")).toMatch(
      /^(timed out after 100 ms \(the sandbox thread was stopped\)|ran out of memory \(the limit is 16 MiB\))$/,
    );
    expect(performance.now() - started).toBeLessThan(3000);
    expect((await run("function handler(w) { return w; }")).ok).toBe(true);
  });

  it("keeps a compiled handler per scope and code, and drops one that hit a limit", async () => {
    const counter = "let n = 0; function handler(w) { n++; w.payload = { n }; return w; }";
    const a1 = await run(counter, "ep_a");
    const a2 = await run(counter, "ep_a");
    const b1 = await run(counter, "ep_b");
    expect([a1, a2, b1].map((o) => o.ok && o.webhook.payload.n)).toEqual([1, 2, 1]);
  });

  it("runs handlers of other scopes while one loops", async () => {
    // A long limit, so "while the loop still runs" holds on a busy machine too.
    const two = new TransformPool({ threads: 2, limits: { timeoutMs: 2000 } });
    const warm = "function handler(w) { return w; }";
    await Promise.all([transform(two, "a", warm, input), transform(two, "b", warm, input)]);
    let loopEnded = false;
    const looping = transform(two, "ep_loop", "function handler(w) { while (true) {} }", input).finally(() => {
      loopEnded = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    const quick = await transform(two, "ep_quick", warm, input);
    expect(quick.ok).toBe(true);
    expect(loopEnded).toBe(false);
    expect(await looping).toEqual({ ok: false, message: "timed out after 2000 ms" });
    await two.close();
  });
});
