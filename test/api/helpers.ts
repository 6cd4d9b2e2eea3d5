import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions } from "fastify";
import { type Logger, pino } from "pino";
import { buildApi } from "../../src/api/server.js";
import { type HeraldConfig, resolveConfig } from "../../src/config/config.js";
import { newId } from "../../src/core/ids.js";
import { GroupCommitPublisher } from "../../src/publish/publisher.js";
import type { Attempt } from "../../src/store/model.js";
import { openSqliteStore } from "../../src/store/sqlite/index.js";
import type { Store } from "../../src/store/store.js";

export const ADMIN_KEY = "test-admin-key-0123456789";

export interface Reply {
  status: number;
  headers: Record<string, unknown>;
  // biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
  body: any;
}

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  config: HeraldConfig;
  publisher: GroupCommitPublisher;
  /** How many times the API woke the (absent) dispatcher. */
  wakes: () => number;
  /** One request with the admin key unless `headers.authorization` says otherwise. */
  call(method: InjectOptions["method"], url: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  close(): Promise<void>;
}

/** An API on a fresh SQLite file in a temp dir, with the real group-commit publisher. */
export async function openApi(settings: Record<string, string> = {}, overrides: Partial<HeraldConfig> = {}, options: { logger?: Logger } = {}): Promise<TestApi> {
  const dir = mkdtempSync(join(tmpdir(), "herald-api-"));
  const store = openSqliteStore(join(dir, "herald.db"));
  await store.migrate();
  // No rate limit unless a test asks for one: tests send bursts far above any sane limit.
  const config = resolveConfig({ HERALD_API_KEY: ADMIN_KEY, HERALD_API_RATE_LIMIT: "0", ...settings }, overrides);
  const publisher = new GroupCommitPublisher(store);
  let wakes = 0;
  const app = await buildApi({ store, config, publisher, logger: options.logger ?? pino({ level: "silent" }), wake: () => void wakes++ });
  return {
    app,
    store,
    config,
    publisher,
    wakes: () => wakes,
    async call(method, url, body, headers = {}) {
      const res = await app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...headers },
        ...(body === undefined ? {} : typeof body === "string" ? { payload: body } : { payload: body as object }),
      });
      const text = res.body;
      return { status: res.statusCode, headers: res.headers, body: text === "" ? undefined : safeJson(text) };
    },
    async close() {
      await app.close();
      await publisher.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Records one finished attempt for each pending delivery of the endpoint, as the dispatcher would. */
export async function recordAttempts(store: Store, endpointId: string, outcome: { success: boolean; durationMs?: number }): Promise<number> {
  const now = Date.now();
  const jobs = await store.claimDue({ owner: "test", now: now + 1, leaseUntil: now + 60_000, limit: 1000 });
  const mine = jobs.filter((j) => j.endpoint.id === endpointId);
  await store.complete(
    mine.map((job) => {
      const attempt: Attempt = {
        id: newId("atmpt"),
        deliveryId: job.delivery.id,
        messageId: job.message.id,
        endpointId: job.endpoint.id,
        appId: job.delivery.appId,
        attemptNumber: job.delivery.attempts + 1,
        url: job.endpoint.url,
        createdAt: now,
        durationMs: outcome.durationMs ?? 12,
        success: outcome.success,
        statusCode: outcome.success ? 200 : 500,
        responseHeaders: { "content-type": "text/plain" },
        responseBody: outcome.success ? "ok" : "boom",
        errorKind: outcome.success ? null : "http_status",
        errorMessage: outcome.success ? null : "HTTP 500",
      };
      return {
        deliveryId: job.delivery.id,
        messageId: job.delivery.messageId,
        lease: job.lease,
        endpointId: job.endpoint.id,
        attempt,
        status: outcome.success ? "succeeded" : "failed",
        attempts: job.delivery.attempts + 1,
        scheduleIndex: job.delivery.scheduleIndex + 1,
        nextAttemptAt: null,
        cycleStartedAt: job.delivery.cycleStartedAt ?? now,
      } as const;
    }),
    now,
  );
  await store.releaseLeases(
    "test",
    jobs.filter((j) => j.endpoint.id !== endpointId).map((j) => ({ id: j.delivery.id, messageId: j.delivery.messageId, gen: j.lease.gen })),
    now,
  );
  return mine.length;
}
