import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { adminKeyResolver, authenticate, type Principal, type TokenResolver } from "./auth.js";
import type { ApiContext } from "./context.js";
import { errorHandler, notFoundHandler } from "./problem.js";
import { applicationRoutes } from "./routes/applications.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { endpointActionRoutes } from "./routes/endpoint-actions.js";
import { endpointRoutes } from "./routes/endpoints.js";
import { eventTypeRoutes } from "./routes/event-types.js";
import { healthRoutes } from "./routes/health.js";
import { messageRoutes } from "./routes/messages.js";
import { metricsRoutes } from "./routes/metrics.js";
import { createValidatorCompiler, type TypeBoxProvider } from "./validation.js";

/** Room for the JSON envelope around a maximal payload (`eventType`, `channels`, escapes). */
const BODY_SLACK_BYTES = 64 * 1024;

/** Credentials that must never reach a log line, wherever a request's headers get logged. */
const REDACT = ["req.headers.authorization", "headers.authorization", "*.headers.authorization", "req.headers.cookie"];

export interface BuildApiOptions {
  /**
   * Extra bearer-token resolvers tried after the admin key, e.g. issue #3's
   * application-scoped portal tokens. Default: none.
   */
  resolvers?: readonly TokenResolver[];
}

/**
 * The HTTP API: `/api/v1/…` behind `Authorization: Bearer <key>`, plus
 * `/healthz` and `/readyz`. Not listening yet: the caller decides where
 * (`app.listen({ host, port })`) or injects requests in tests (`app.inject()`).
 *
 * @example
 * const app = await buildApi({ store, config, publisher, logger, wake: () => dispatcher.wake() });
 * await app.listen({ host: config.host, port: config.port });
 */
export async function buildApi(ctx: ApiContext, options: BuildApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.logger.child({ component: "api" }, { redact: REDACT }) as FastifyBaseLogger,
    bodyLimit: ctx.config.maxPayloadBytes + BODY_SLACK_BYTES,
    // A JSON body with "__proto__" or "constructor.prototype" keys is refused (400), never merged.
    onProtoPoisoning: "error",
    onConstructorPoisoning: "error",
    // Errors raised before routing (an undecodable URL) go through the same handler.
    frameworkErrors: errorHandler,
  }).withTypeProvider<TypeBoxProvider>();

  app.setValidatorCompiler(createValidatorCompiler());
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Declared up front (V8 keeps one object shape); the auth hook sets it on every /api/v1 request.
  app.decorateRequest<Principal | null>("principal", null);

  // JSON only: without the default text/plain parser, any other media type is a 415.
  app.removeAllContentTypeParsers();
  const parseJson = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (req, body, done) => {
    // An empty body is "no body" (actions whose body is optional); the schema decides.
    if (body === "") done(null, undefined);
    else parseJson(req, body as string, done);
  });

  healthRoutes(app, ctx);
  metricsRoutes(app, ctx);
  dashboardRoutes(app);

  const auth = authenticate([adminKeyResolver(ctx.store, ctx.config), ...(options.resolvers ?? [])]);
  await app.register(
    async (api) => {
      api.addHook("onRequest", auth);
      // Its own 404 handler puts unknown /api/v1 paths behind the auth hook too:
      // without a key they answer 401, so routes cannot be probed anonymously.
      api.setNotFoundHandler(notFoundHandler);
      applicationRoutes(api, ctx);
      eventTypeRoutes(api, ctx);
      endpointRoutes(api, ctx);
      endpointActionRoutes(api, ctx);
      messageRoutes(api, ctx);
    },
    { prefix: "/api/v1" },
  );

  return app as unknown as FastifyInstance;
}
