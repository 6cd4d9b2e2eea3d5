import { join } from "node:path";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { formatTraceparent, parseTraceparent } from "../../src/observability/tracing.js";
import { tracingMode } from "../../src/observability/otel-sdk.js";
import { ADMIN_KEY } from "../api/helpers.js";
import { Herald } from "../../src/herald.js";
import { createApp, createEndpoint, eventually, openTestHerald, silentLogger, tempDir } from "../helpers/herald.js";
import { startReceiver } from "../helpers/receiver.js";

/**
 * Tracing of a real Herald (SQLite file, receiver on 127.0.0.1) into an
 * in-memory exporter, through the library's `tracerProvider` option: nothing
 * is registered globally, so the other tests see the no-op API.
 */

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(settings: Record<string, string>, behaviour?: Parameters<typeof startReceiver>[0]) {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const receiver = await startReceiver(behaviour);
  const { dir, cleanup } = tempDir();
  const herald = await Herald.open({
    settings: {
      HERALD_DATABASE_URL: `sqlite:${join(dir, "herald.db")}`,
      HERALD_PORT: "0",
      HERALD_ALLOWED_NETWORKS: "127.0.0.0/8",
      HERALD_API_KEY: ADMIN_KEY,
      ...settings,
    },
    logger: silentLogger(),
    tracerProvider,
  });
  cleanups.push(async () => {
    await herald.stop();
    await receiver.close();
    await tracerProvider.shutdown();
    cleanup();
  });
  await herald.start();
  return { herald, exporter, receiver };
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe("tracing with an in-memory exporter", () => {
  it("publish → attempt spans, a claim span for the retry, and the receiver joins the producer's trace", async () => {
    // The first attempt fails (500) and is retried 50 ms later: that retry is claimed from the store.
    const { herald, exporter, receiver } = await setup({ HERALD_RETRY_SCHEDULE: "0s,50ms" }, (_req, res, index) => {
      res.statusCode = index === 0 ? 500 : 204;
      res.end();
    });
    const app = await createApp(herald);
    const endpoint = await createEndpoint(herald, app, `${receiver.url}/hook`);
    const { url } = await herald.listen();

    // A producer's trace, continued through the API.
    const producer = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
    const res = await fetch(`${url}/api/v1/applications/${app.id}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", traceparent: `00-${producer.traceId}-${producer.spanId}-01` },
      body: JSON.stringify({ eventType: "order.created", payload: { n: 1 } }),
    });
    expect(res.status).toBe(202);
    const message = (await res.json()) as { id: string };
    await receiver.waitFor(2, 10_000);
    const spans = await eventually(() => {
      const s = exporter.getFinishedSpans();
      return named(s, "herald attempt").length === 2 ? s : null;
    });

    const [publish] = named(spans, "herald publish");
    expect(publish).toBeDefined();
    expect(publish!.kind).toBe(SpanKind.PRODUCER);
    expect(publish!.spanContext().traceId).toBe(producer.traceId);
    expect(parentOf(publish!)).toBe(producer.spanId);
    expect(publish!.attributes["messaging.message.id"]).toBe(message.id);
    expect(publish!.attributes["herald.publish.created"]).toBe(true);

    const attempts = named(spans, "herald attempt").sort((a, b) => Number(a.attributes["herald.attempt.number"]) - Number(b.attributes["herald.attempt.number"]));
    for (const a of attempts) {
      expect(a.kind).toBe(SpanKind.CLIENT);
      expect(a.spanContext().traceId).toBe(producer.traceId);
      expect(parentOf(a)).toBe(publish!.spanContext().spanId);
      expect(a.attributes["http.request.method"]).toBe("POST");
      expect(a.attributes["url.full"]).toBe(`${receiver.url}/hook`);
      expect(a.attributes["server.port"]).toBe(receiver.port);
      expect(a.attributes["herald.endpoint.id"]).toBe(endpoint.id);
    }
    expect(attempts[0]!.attributes["http.response.status_code"]).toBe(500);
    expect(attempts[0]!.attributes["herald.attempt.outcome"]).toBe("http_status");
    expect(attempts[0]!.attributes["error.type"]).toBe("500");
    expect(attempts[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempts[1]!.attributes["http.response.status_code"]).toBe(204);
    expect(attempts[1]!.attributes["herald.attempt.outcome"]).toBe("success");
    expect(attempts[1]!.status.code).not.toBe(SpanStatusCode.ERROR);

    // The first attempt came straight from the publish (in memory): no claim. The retry was claimed.
    const claims = named(spans, "herald claim");
    expect(claims.length).toBeGreaterThanOrEqual(1);
    const claim = claims.find((c) => attempts[1]!.links.some((l) => l.context.spanId === c.spanContext().spanId));
    expect(claim, "the retry's attempt links to the claim that fetched it").toBeDefined();
    expect(parentOf(claim!)).toBeUndefined();
    expect(claim!.attributes["herald.claim.count"]).toBe(1);
    expect(attempts[0]!.links).toEqual([]);

    // Each request carries the attempt span's own context: the receiver's trace joins the producer's.
    for (const [i, r] of receiver.received.entries()) {
      const sc = parseTraceparent(String(r.headers.traceparent));
      expect(sc).not.toBeNull();
      expect(sc!.traceId).toBe(publish!.spanContext().traceId);
      expect(sc!.spanId).toBe(attempts[i]!.spanContext().spanId);
      expect(r.headers.traceparent).toBe(formatTraceparent(attempts[i]!.spanContext()));
    }
  });

  it("a library publish without a caller's trace starts one; every attempt is in it", async () => {
    const { herald, exporter, receiver } = await setup({});
    const app = await createApp(herald);
    await createEndpoint(herald, app, `${receiver.url}/a`);
    await createEndpoint(herald, app, `${receiver.url}/b`);
    await herald.publish({ app: app.id, eventType: "user.signed_up", payload: { id: 7 } });
    await receiver.waitFor(2, 10_000);
    const spans = await eventually(() => {
      const s = exporter.getFinishedSpans();
      return named(s, "herald attempt").length === 2 ? s : null;
    });
    const [publish] = named(spans, "herald publish");
    expect(parentOf(publish!)).toBeUndefined();
    for (const a of named(spans, "herald attempt")) expect(parentOf(a)).toBe(publish!.spanContext().spanId);
    const traceIds = new Set(receiver.received.map((r) => parseTraceparent(String(r.headers.traceparent))?.traceId));
    expect([...traceIds]).toEqual([publish!.spanContext().traceId]);
  });
});

describe("without an SDK (the default)", () => {
  it("sends no traceparent and stores no trace context, even when the producer sent one", async () => {
    const receiver = await startReceiver();
    const t = await openTestHerald({ HERALD_API_KEY: ADMIN_KEY });
    cleanups.push(async () => {
      await t.close();
      await receiver.close();
    });
    await t.herald.start();
    const app = await createApp(t.herald);
    await createEndpoint(t.herald, app, `${receiver.url}/hook`);
    await t.herald.publish({ app: app.id, eventType: "a.b", payload: {} });
    const { url } = await t.herald.listen();
    const res = await fetch(`${url}/api/v1/applications/${app.id}/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json", traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
      body: JSON.stringify({ eventType: "a.b", payload: {} }),
    });
    expect(res.status).toBe(202);
    const received = await receiver.waitFor(2, 10_000);
    for (const r of received) expect(r.headers.traceparent).toBeUndefined();
    expect(await t.query("SELECT trace_context FROM messages")).toEqual([{ trace_context: null }, { trace_context: null }]);
  });
});

describe("traceparent", () => {
  it("parses the W3C format and refuses malformed or invalid ones", () => {
    expect(parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).toEqual({
      traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
      spanId: "00f067aa0ba902b7",
      traceFlags: 1,
      isRemote: true,
    });
    for (const bad of [
      "",
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
    ]) {
      expect(parseTraceparent(bad), bad).toBeNull();
    }
    // A later version may add fields.
    expect(parseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more")?.traceFlags).toBe(0);
  });

  it("HERALD_OTEL and OTEL_EXPORTER_OTLP_ENDPOINT turn it on; off by default", () => {
    expect(tracingMode({})).toBe("off");
    expect(tracingMode({ HERALD_OTEL: "0" })).toBe("off");
    expect(tracingMode({ HERALD_OTEL: "1" })).toBe("otlp");
    expect(tracingMode({ HERALD_OTEL: "console" })).toBe("console");
    expect(tracingMode({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe("otlp");
    expect(tracingMode({ HERALD_OTEL: "false", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toBe("off");
    expect(() => tracingMode({ HERALD_OTEL: "yes please" })).toThrow(TypeError);
  });
});
