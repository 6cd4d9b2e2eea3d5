import { afterEach, describe, expect, it } from "vitest";
import { createApp, createEndpoint, eventually, openTestHerald, sleep } from "../helpers/herald.js";
import { parsePrometheus, sumOf } from "../helpers/prometheus.js";
import { type Receiver, startReceiver } from "../helpers/receiver.js";

/**
 * `/metrics` of a real Herald (SQLite file, HTTP server on 127.0.0.1) after
 * real deliveries to a real receiver: the counters, the histogram and the
 * queue gauges move, and the label sets stay bounded whatever the endpoints.
 */

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup(settings: Record<string, string> = {}) {
  const receiver = await startReceiver((req, res) => {
    res.statusCode = req.path.startsWith("/fail") ? 500 : 200;
    res.end("ok");
  });
  const t = await openTestHerald(settings);
  cleanups.push(async () => {
    await t.close();
    await receiver.close();
  });
  await t.herald.start();
  const { url } = await t.herald.listen();
  const scrape = async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };
  return { ...t, receiver, url, scrape };
}

const publish = (herald: Awaited<ReturnType<typeof setup>>["herald"], appId: string, n: number, eventId?: string) =>
  Promise.all(
    Array.from({ length: n }, (_, i) =>
      herald.publish({ appId: appId as never, eventType: "order.created", payload: JSON.stringify({ i }), channels: null, eventId: eventId ?? null }),
    ),
  );

/** Herald's own series (`herald_*`): the process metrics of prom-client vary with the runtime (GC kinds, handle types). */
const heraldSeries = (m: Map<string, number>) => new Set([...m.keys()].filter((k) => k.startsWith("herald_")));

async function delivered(receiver: Receiver, n: number) {
  await receiver.waitFor(n, 15_000);
}

describe("/metrics after real deliveries", () => {
  it("counts attempts by outcome, their latency, publishes, and reads the queue from the store", async () => {
    // The failing endpoint's retry is due in an hour: it stays in the queue.
    const { herald, receiver, scrape } = await setup({ HERALD_RETRY_SCHEDULE: "0s,1h" });
    const before = await scrape();
    expect(sumOf(before, "herald_attempts_total")).toBe(0);
    expect(before.get('herald_messages_published_total{result="created"}')).toBe(0);
    expect(before.get("herald_queue_depth")).toBe(0);
    expect(before.get("herald_queue_oldest_due_age_seconds")).toBe(0);
    expect(before.get("herald_metrics_store_up")).toBe(1);

    const app = await createApp(herald);
    await createEndpoint(herald, app, `${receiver.url}/ok`);
    await createEndpoint(herald, app, `${receiver.url}/fail`);
    await publish(herald, app.id, 5);
    await publish(herald, app.id, 1, "same-key");
    const replay = await publish(herald, app.id, 1, "same-key");
    expect(replay[0]!.created).toBe(false);
    await delivered(receiver, 12);

    // Outcomes are counted at once; the store records them in batches a few milliseconds later.
    const m = await eventually(async () => {
      const s = await scrape();
      return sumOf(s, "herald_attempts_total") === 12 && s.get("herald_queue_depth") === 6 ? s : null;
    });
    expect(m.get('herald_attempts_total{outcome="success",status_class="2xx"}')).toBe(6);
    expect(m.get('herald_attempts_total{outcome="http_status",status_class="5xx"}')).toBe(6);
    expect(m.get('herald_attempt_duration_seconds_count{outcome="success"}')).toBe(6);
    expect(m.get('herald_attempt_duration_seconds_count{outcome="failure"}')).toBe(6);
    expect(m.get('herald_attempt_duration_seconds_bucket{le="+Inf",outcome="success"}')).toBe(6);
    expect(m.get('herald_attempt_duration_seconds_sum{outcome="success"}')).toBeGreaterThan(0);
    // Buckets are cumulative.
    expect(m.get('herald_attempt_duration_seconds_bucket{le="0.005",outcome="success"}')).toBeLessThanOrEqual(6);
    expect(m.get('herald_messages_published_total{result="created"}')).toBe(6);
    expect(m.get('herald_messages_published_total{result="duplicate"}')).toBe(1);
    // Six failed deliveries wait for their retry in an hour: queued, not overdue.
    expect(m.get("herald_queue_depth")).toBe(6);
    expect(m.get("herald_queue_oldest_due_age_seconds")).toBe(0);
    expect(m.get("process_cpu_seconds_total")).toBeGreaterThan(0);
    expect(m.get("process_resident_memory_bytes")).toBeGreaterThan(0);
    // A response is counted once it is sent: a scrape sees the scrapes before it, not itself.
    const seen = m.get('herald_http_responses_total{method="GET",code="200"}')!;
    expect(seen).toBeGreaterThanOrEqual(1);
    const later = await eventually(async () => {
      const s = await scrape();
      return s.get('herald_http_responses_total{method="GET",code="200"}')! > seen ? s : null;
    });
    expect(later.get('herald_http_responses_total{method="GET",code="200"}')).toBeGreaterThan(seen);
  });

  it("the age of the oldest due delivery grows while nothing delivers (an API-only process)", async () => {
    const { herald, receiver, scrape } = await setup({ HERALD_ROLE: "api" });
    const app = await createApp(herald);
    await createEndpoint(herald, app, `${receiver.url}/ok`);
    await publish(herald, app.id, 3);
    await sleep(300);
    const m = await scrape();
    expect(m.get("herald_queue_depth")).toBe(3);
    expect(m.get("herald_queue_oldest_due_age_seconds")).toBeGreaterThanOrEqual(0.25);
    expect([...m.keys()].filter((k) => k.startsWith("herald_info{") && k.includes('role="api"'))).toHaveLength(1);
    expect(receiver.received).toHaveLength(0);
  });

  it("50 more endpoints add no series: no endpoint ids, no URLs in any label", async () => {
    const { herald, receiver, scrape } = await setup({ HERALD_RETRY_SCHEDULE: "0s,1h" });
    await scrape(); // its own response is counted from the next scrape on
    const first = await createApp(herald, "first");
    await createEndpoint(herald, first, `${receiver.url}/ok`);
    await createEndpoint(herald, first, `${receiver.url}/fail`);
    await publish(herald, first.id, 2);
    await delivered(receiver, 4);
    const before = await eventually(async () => {
      const s = await scrape();
      return sumOf(s, "herald_attempts_total") === 4 ? s : null;
    });

    const many = await createApp(herald, "many");
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await createEndpoint(herald, many, `${receiver.url}/ok/${i}`)).id);
    await publish(herald, many.id, 2);
    await delivered(receiver, 104);
    const after = await eventually(async () => {
      const s = await scrape();
      return sumOf(s, "herald_attempts_total") === 104 ? s : null;
    });

    expect(after.get('herald_attempts_total{outcome="success",status_class="2xx"}')).toBe(102);
    expect([...heraldSeries(after)].sort()).toEqual([...heraldSeries(before)].sort());
    const text = [...after.keys()].join("\n");
    for (const id of ids) expect(text).not.toContain(id);
    expect(text).not.toContain(receiver.url);
    expect(text).not.toContain("127.0.0.1");
  });
});
