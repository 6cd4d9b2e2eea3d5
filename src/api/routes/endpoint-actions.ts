import { Type } from "@sinclair/typebox";
import { invalid, notFound } from "../../core/errors.js";
import { generateSecret, secretProblem } from "../../signing/secret.js";
import type { Endpoint } from "../../store/model.js";
import type { EndpointPatch } from "../../store/store.js";
import type { ApiContext } from "../context.js";
import { disabledPatch, enabledPatch } from "../endpoint-input.js";
import { findEndpoint, requireActive } from "../lookup.js";
import { PageQuery, pageOf, pageRequest } from "../pagination.js";
import { DateTime, EmptyBody, epochMs, EndpointParams, EventTypeName, NoQuery, optionalBody, Strict } from "../schemas.js";
import { serializeAttempt, serializeEndpoint, serializeStats } from "../serializers.js";
import type { Api } from "../validation.js";

/** How long a rotated-out secret keeps signing (contract §3: both sign for 24 h). */
const ROTATION_OVERLAP_MS = 24 * 3_600_000;
const DEFAULT_STATS_WINDOW_MS = 24 * 3_600_000;

const RotateBody = Strict({ secret: Type.Optional(Type.String({ maxLength: 256 })) });
const TestBody = Strict({ eventType: Type.Optional(EventTypeName) });
const RecoverBody = Strict({ since: DateTime });
const StatsQuery = Strict({ since: Type.Optional(DateTime) });

export function endpointActionRoutes(api: Api, ctx: ApiContext): void {
  const optional = { preValidation: optionalBody };

  /** enable/disable: a no-op (200, unchanged) when the endpoint is already in that state. */
  const setStatus = (path: string, want: Endpoint["status"], patch: EndpointPatch) =>
    api.post(path, { ...optional, schema: { params: EndpointParams, body: EmptyBody, querystring: NoQuery } }, async (req) => {
      const { app, endpoint } = await findEndpoint(ctx, req, req.params);
      if (endpoint.status === want) return serializeEndpoint(endpoint);
      const updated = await ctx.store.updateEndpoint(app.id, endpoint.id, patch, Date.now());
      if (!updated) throw notFound("endpoint", endpoint.id);
      return serializeEndpoint(updated);
    });
  setStatus("/applications/:app/endpoints/:ep/enable", "active", enabledPatch);
  setStatus("/applications/:app/endpoints/:ep/disable", "disabled", disabledPatch);

  api.get("/applications/:app/endpoints/:ep/secret", { schema: { params: EndpointParams, querystring: NoQuery } }, async (req) => {
    const { endpoint } = await findEndpoint(ctx, req, req.params);
    return { secret: endpoint.secret };
  });

  api.post(
    "/applications/:app/endpoints/:ep/secret/rotate",
    { ...optional, schema: { params: EndpointParams, body: RotateBody, querystring: NoQuery } },
    async (req) => {
      const problem = req.body.secret === undefined ? undefined : secretProblem(req.body.secret);
      if (problem) throw invalid("/secret", problem);
      const { app, endpoint } = await findEndpoint(ctx, req, req.params);
      const secret = req.body.secret ?? generateSecret();
      const now = Date.now();
      const rotated = await ctx.store.rotateEndpointSecret(app.id, endpoint.id, secret, now + ROTATION_OVERLAP_MS, now);
      if (!rotated) throw notFound("endpoint", endpoint.id);
      return { secret: rotated.secret };
    },
  );

  api.post("/applications/:app/endpoints/:ep/test", { ...optional, schema: { params: EndpointParams, body: TestBody, querystring: NoQuery } }, async (req, reply) => {
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
  });

  api.post("/applications/:app/endpoints/:ep/recover", { schema: { params: EndpointParams, body: RecoverBody, querystring: NoQuery } }, async (req, reply) => {
    const { endpoint } = await findEndpoint(ctx, req, req.params);
    requireActive(endpoint, "recover");
    const queued = await ctx.store.recover(endpoint.id, epochMs(req.body.since, "/since"), Date.now());
    if (queued > 0) ctx.wake();
    return reply.code(202).send({ queued });
  });

  api.get("/applications/:app/endpoints/:ep/attempts", { schema: { params: EndpointParams, querystring: Strict(PageQuery) } }, async (req) => {
    const { endpoint } = await findEndpoint(ctx, req, req.params);
    return pageOf(await ctx.store.listEndpointAttempts(endpoint.id, pageRequest(req.query, "atmpt")), serializeAttempt);
  });

  api.get("/applications/:app/endpoints/:ep/stats", { schema: { params: EndpointParams, querystring: StatsQuery } }, async (req) => {
    const { endpoint } = await findEndpoint(ctx, req, req.params);
    const now = Date.now();
    const since = req.query.since === undefined ? now - DEFAULT_STATS_WINDOW_MS : epochMs(req.query.since, "query.since");
    return serializeStats(await ctx.store.endpointStats(endpoint.id, since, now));
  });
}
