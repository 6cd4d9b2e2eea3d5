import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, tempDir } from "../helpers/herald.js";
import { spawnHerald } from "../helpers/process.js";
import { startReceiver } from "../helpers/receiver.js";

/**
 * `herald serve` with `OTEL_EXPORTER_OTLP_ENDPOINT` (the built CLI: `npm run
 * build` first): the SDK is loaded, spans go to an OTLP/HTTP collector (a fake
 * one on 127.0.0.1 that keeps the protobuf bodies), and deliveries carry the trace.
 */

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function fakeCollector() {
  const bodies: Buffer[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "POST" && req.url === "/v1/traces") bodies.push(Buffer.concat(chunks));
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, all: () => Buffer.concat(bodies) };
}

describe("herald serve exports spans over OTLP when configured", () => {
  it("publish and attempt spans reach the collector, in the producer's trace", async () => {
    const collector = await fakeCollector();
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const key = "otlp-test-admin-key-0123456789";
    const herald = spawnHerald(["serve", "--dev"], {
      HERALD_DATABASE_URL: `sqlite:${join(dir, "herald.db")}`,
      HERALD_PORT: "0",
      HERALD_API_KEY: key,
      HERALD_LOG_LEVEL: "info",
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: "herald-under-test",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    });
    cleanups.push(async () => {
      herald.child.kill("SIGTERM");
      await herald.exited;
    });
    const url = (await herald.waitFor(/listening on (http:\/\/\S+)/, 20_000))[1]!;
    expect(herald.output()).toContain("tracing on");
    const call = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      return (await res.json()) as { id: string };
    };
    const app = await call("/api/v1/applications", { name: "traced" });
    await call(`/api/v1/applications/${app.id}/endpoints`, { url: `${receiver.url}/hook` });
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    await call(`/api/v1/applications/${app.id}/messages`, { eventType: "order.created", payload: { n: 1 } }, { traceparent: `00-${traceId}-b7ad6b7169203331-01` });

    const [delivery] = await receiver.waitFor(1, 10_000);
    expect(delivery!.headers.traceparent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    // OTLP/HTTP with JSON bodies (this exporter's encoding): ids are hex strings.
    await eventually(() => {
      const all = collector.all();
      return all.includes("herald publish") && all.includes("herald attempt") ? all : null;
    }, 10_000);
    const all = collector.all();
    expect(all.includes(`"traceId":"${traceId}"`)).toBe(true);
    expect(all.includes("herald-under-test")).toBe(true);
  });
});
