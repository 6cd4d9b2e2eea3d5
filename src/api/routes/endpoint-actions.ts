import { Type } from "@sinclair/typebox";
import { EndpointWrites } from "../../service/endpoints.js";
import type { ApiContext } from "../context.js";
import { findApp, findEndpoint } from "../lookup.js";
import { requireActive } from "../../service/endpoints.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { DateTime, EmptyBody, epochMs, EndpointParams, EventTypeName, NoQuery, optionalBody, Strict, StringEnum } from "../../core/schemas.js";
import { Attempt, Endpoint as EndpointSchema, EndpointStats, Page, Secret } from "../responses.js";
import { serializeAttempt, serializeEndpoint, serializeStats } from "../serializers.js";
import type { Api } from "../validation.js";

const DEFAULT_STATS_WINDOW_MS = 24 * 3_600_000;

const RotateBody = Strict({ secret: Type.Optional(Type.String({ maxLength: 256 })) });
const TestBody = Strict({ eventType: Type.Optional(EventTypeName) });
const RecoverBody = Strict({ since: DateTime });
const StatsQuery = Strict({ since: Type.Optional(DateTime) });
const AttemptsQuery = Strict({
  ...PageQuery,
  status: Type.Optional(StringEnum(["succeeded", "failed"] as const)),
  statusCode: Type.Optional(Type.Integer({ minimum: 100, maximum: 599, description: "only attempts answered with this HTTP status" })),
  eventType: Type.Optional(EventTypeName),
  before: Type.Optional(DateTime),
  after: Type.Optional(DateTime),
});
const Queued = Type.Object({ queued: Type.Integer() });
const TestSent = Type.Object({ messageId: Type.String() });

const tags = ["Endpoints"];

export function endpointActionRoutes(api: Api, ctx: ApiContext): void {
  const optional = { preValidation: optionalBody };

  // Checks, store writes and operational events: shared with the library (src/service/endpoints.ts).
  const writes = new EndpointWrites(ctx);

  /** enable/disable: a no-op (200, unchanged, no event) when the endpoint is already in that state. */
  const setStatus = (path: string, enabled: boolean, summary: string) =>
    api.post(
      path,
      { ...optional, schema: { summary, tags, params: EndpointParams, body: EmptyBody, querystring: NoQuery, response: { 200: EndpointSchema } } },
      async (req) => {
        const app = await findApp(ctx, req, req.params.app);
        return serializeEndpoint(await writes.setEnabled(app, req.params.ep, enabled));
      },
    );
  setStatus("/applications/:app/endpoints/:ep/enable", true, "Enable an endpoint (resets its failure state)");
  setStatus("/applications/:app/endpoints/:ep/disable", false, "Disable an endpoint");

  api.get(
    "/applications/:app/endpoints/:ep/secret",
    { schema: { summary: "Get the endpoint's signing secret in full", tags, params: EndpointParams, querystring: NoQuery, response: { 200: Secret } } },
    async (req) => {
      const { endpoint } = await findEndpoint(ctx, req, req.params);
      return { secret: endpoint.secret };
    },
  );

  api.post(
    "/applications/:app/endpoints/:ep/secret/rotate",
    {
      ...optional,
      schema: {
        summary: "Rotate the signing secret",
        description: "The previous secret keeps signing (a second `webhook-signature` value) for 24 hours.",
        tags,
        params: EndpointParams,
        body: RotateBody,
        querystring: NoQuery,
        response: { 200: Secret },
      },
    },
    async (req) => {
      const app = await findApp(ctx, req, req.params.app);
      const rotated = await writes.rotateSecret(app, req.params.ep, req.body.secret);
      return { secret: rotated.secret };
    },
  );

  api.post(
    "/applications/:app/endpoints/:ep/test",
    {
      ...optional,
      schema: {
        summary: "Send a test event to this endpoint only",
        description: "Not checked against the event catalog's schemas.",
        tags,
        params: EndpointParams,
        body: TestBody,
        querystring: NoQuery,
        response: { 202: TestSent },
      },
    },
    async (req, reply) => {
    const { app, endpoint } = await findEndpoint(ctx, req, req.params);
    requireActive(endpoint, "test it");
    const eventType = req.body.eventType ?? "webhook.test";
    const payload = JSON.stringify({
      eventType,
      timestamp: new Date().toISOString(),
      data: { endpointId: endpoint.id, message: "This is a test event from Herald" },
    });
    const { message } = await ctx.publisher.publish({ appId: app.id, eventType, payload, channels: null, eventId: null, only: endpoint.id });
    return reply.code(202).send({ messageId: message.id });
    },
  );

  api.post(
    "/applications/:app/endpoints/:ep/recover",
    {
      schema: {
        summary: "Re-queue every failed or skipped delivery since a time",
        tags,
        params: EndpointParams,
        body: RecoverBody,
        querystring: NoQuery,
        response: { 202: Queued },
      },
    },
    async (req, reply) => {
    const app = await findApp(ctx, req, req.params.app);
    const queued = await writes.recover(app, req.params.ep, epochMs(req.body.since, "/since"));
    return reply.code(202).send({ queued });
    },
  );

  api.get(
    "/applications/:app/endpoints/:ep/attempts",
    {
      schema: {
        summary: "List the attempts to this endpoint",
        description:
          "Filters: `status` (`succeeded` or `failed`), `statusCode` (the HTTP status answered), `eventType` (exact: the message's), " +
          "`before`/`after` (attempt time, exclusive).",
        tags,
        params: EndpointParams,
        querystring: AttemptsQuery,
        response: { 200: Page(Attempt) },
      },
    },
    async (req) => {
    const { endpoint } = await findEndpoint(ctx, req, req.params);
    const { status, statusCode, eventType, before, after } = req.query;
    const filter = {
      success: status === undefined ? undefined : status === "succeeded",
      statusCode,
      eventType,
      before: before === undefined ? undefined : epochMs(before, "query.before"),
      after: after === undefined ? undefined : epochMs(after, "query.after"),
    };
    return pageOf(await ctx.store.listEndpointAttempts(endpoint.id, pageRequest(req.query, "atmpt"), filter), serializeAttempt);
    },
  );

  api.get(
    "/applications/:app/endpoints/:ep/stats",
    {
      schema: {
        summary: "Success rate, latency percentiles and counts",
        description: "Over `since` (default: the last 24 hours) until now.",
        tags,
        params: EndpointParams,
        querystring: StatsQuery,
        response: { 200: EndpointStats },
      },
    },
    async (req) => {
    const { endpoint } = await findEndpoint(ctx, req, req.params);
    const now = Date.now();
    const since = req.query.since === undefined ? now - DEFAULT_STATS_WINDOW_MS : epochMs(req.query.since, "query.since");
    return serializeStats(await ctx.store.endpointStats(endpoint.id, since, now));
    },
  );
}
