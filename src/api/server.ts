import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { EventCatalog } from "../catalog/catalog.js";
import { REDACT_PATHS, requestSerializer } from "../log.js";
import { parseKeyRing } from "../security/keys.js";
import { adminKeyResolver, adminKeysResolver, authenticate, type Principal, scopeGuard, type TokenResolver } from "./auth.js";
import { clientErrorHandler } from "./client-errors.js";
import type { ApiContext } from "./context.js";
import { jsonBodyParser } from "./json-body.js";
import { PortalTokens } from "./portal-tokens.js";
import { errorHandler, notFoundHandler } from "./problem.js";
import { rateLimiter } from "./rate-limit.js";
import { collectRoutes } from "./route-table.js";
import { adminKeyRoutes } from "./routes/admin-keys.js";
import { applicationRoutes } from "./routes/applications.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { endpointActionRoutes } from "./routes/endpoint-actions.js";
import { endpointRoutes } from "./routes/endpoints.js";
import { eventTypeRoutes } from "./routes/event-types.js";
import { healthRoutes } from "./routes/health.js";
import { messageRoutes } from "./routes/messages.js";
import { metricsRoutes } from "./routes/metrics.js";
import { HeraldMetrics } from "../observability/metrics.js";
import { openApiRoutes } from "./routes/openapi.js";
import { operationalEventRoutes } from "./routes/operational-events.js";
import { portalPageRoutes } from "./routes/portal-page.js";
import { portalTokenRoutes } from "./routes/portal-tokens.js";
import { triageRoutes } from "./routes/triage.js";
import { securityHeaders } from "./security-headers.js";
import { transformationRoutes } from "./routes/transformation.js";
import { TransformPool } from "../transform/pool.js";
import { createValidatorCompiler, type TypeBoxProvider } from "./validation.js";

/** Room for the JSON envelope around a maximal payload (`eventType`, `channels`, escapes). */
const BODY_SLACK_BYTES = 64 * 1024;

/**
 * Credentials that must never reach a log line, wherever a request's headers
 * get logged: the process-wide list plus the API's own.
 */
const REDACT = [...new Set([...REDACT_PATHS, "req.headers.authorization", "*.headers.authorization", "req.headers.cookie", "key", "*.key"])];

export interface BuildApiOptions {
  /** Extra bearer-token resolvers, tried after the admin keys and portal tokens. Default: none. */
  resolvers?: readonly TokenResolver[];
}

/**
 * The HTTP API: `/api/v1/…` behind `Authorization: Bearer <key>`, plus
 * `/healthz`, `/readyz`, `/metrics`, `/openapi.json`, `/docs`, the dashboard
 * and the consumer portal. Not listening yet: the caller decides where
 * (`app.listen({ host, port })`) or injects requests in tests (`app.inject()`).
 *
 * @example
 * const app = await buildApi({ store, config, publisher, logger, wake: () => dispatcher.wake() });
 * await app.listen({ host: config.host, port: config.port });
 */
export async function buildApi(context: ApiContext, options: BuildApiOptions = {}): Promise<FastifyInstance> {
  const ctx = {
    ...context,
    catalog: context.catalog ?? new EventCatalog(context.store, { logger: context.logger }),
    metrics: context.metrics ?? new HeraldMetrics({ store: context.store, role: context.config.role }),
    transforms: context.transforms ?? new TransformPool(),
  };
  const app = Fastify({
    // Request lines log the query's parameter names, never their values (`?api_key=[redacted]`).
    loggerInstance: ctx.logger.child(
      { component: "api" },
      { redact: { paths: REDACT, censor: "[redacted]" }, serializers: { req: requestSerializer } },
    ) as FastifyBaseLogger,
    bodyLimit: ctx.config.maxPayloadBytes + BODY_SLACK_BYTES,
    // A JSON body with "__proto__" or "constructor.prototype" keys is refused (400), never merged.
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // Errors raised before routing (an undecodable URL) go through the same handler.
    frameworkErrors: errorHandler,
    // …and so do requests Node's HTTP parser refuses (bad header bytes, headers too large).
    clientErrorHandler,
  }).withTypeProvider<TypeBoxProvider>();

  // A client that half-closes after its request (HTTP/1.0 style, `shutdown(SHUT_WR)`) still gets its
  // answer: without this Node aborts a request whose answer waits on I/O (a publish waits for its sync).
  (app.server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
  if (!context.transforms) app.addHook("onClose", () => ctx.transforms.close());
  collectRoutes(app as unknown as FastifyInstance);
  securityHeaders(app as unknown as FastifyInstance);
  app.setValidatorCompiler(createValidatorCompiler());
  // Response schemas document the API (OpenAPI) and type the handlers; what is
  // sent is the handler's object as JSON.stringify writes it, nothing dropped.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Declared up front (V8 keeps one object shape); the auth hook sets it on every /api/v1 request.
  app.decorateRequest<Principal | null>("principal", null);

  // JSON only (any other media type is a 415), checked for depth, UTF-8 and round-trip before it is parsed.
  jsonBodyParser(app as unknown as FastifyInstance);

  const root = app as unknown as FastifyInstance;
  healthRoutes(root, ctx);
  metricsRoutes(root, ctx);
  dashboardRoutes(root);
  openApiRoutes(root, ctx);
  portalPageRoutes(root, ctx);

  // With HERALD_ENCRYPTION_KEY, the portal-token key is derived from it: the database alone cannot mint tokens.
  const portalTokens = new PortalTokens(ctx.store, ctx.config.encryptionKey === undefined ? undefined : parseKeyRing(ctx.config.encryptionKey));
  const auth = authenticate([
    adminKeyResolver(ctx.store, ctx.config),
    adminKeysResolver(ctx.store),
    portalTokens.resolver(),
    ...(options.resolvers ?? []),
  ]);
  const limit = rateLimiter(ctx.config.apiRateLimit);
  await app.register(
    async (api) => {
      // In this order: who is it (401), too many requests (429), may it (403/404).
      api.addHook("onRequest", auth);
      if (limit) {
        api.addHook("onRequest", limit);
        // Only the routes that count as several requests (`config.cost`: the bulk publish) charge the rest,
        // once their body is validated; every other request skips the hook.
        api.addHook("onRoute", (route) => {
          if (route.config?.cost) route.preHandler = [...[route.preHandler ?? []].flat(), limit.charge];
        });
      }
      api.addHook("onRequest", scopeGuard(ctx.store));
      // Its own 404 handler puts unknown /api/v1 paths behind the auth hook too:
      // without a key they answer 401, so routes cannot be probed anonymously.
      api.setNotFoundHandler(notFoundHandler);
      applicationRoutes(api, ctx);
      eventTypeRoutes(api, ctx);
      endpointRoutes(api, ctx);
      triageRoutes(api, ctx);
      endpointActionRoutes(api, ctx);
      messageRoutes(api, ctx);
      portalTokenRoutes(api, ctx, portalTokens);
      adminKeyRoutes(api, ctx);
      operationalEventRoutes(api, ctx);
      transformationRoutes(api, ctx);
    },
    { prefix: "/api/v1" },
  );

  return root;
}
