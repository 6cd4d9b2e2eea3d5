import type { FastifyRequest } from "fastify";
import { notFound } from "../core/errors.js";
import { isId } from "../core/ids.js";
import type { Application, Endpoint, Message } from "../store/model.js";
import { canSeeApp } from "./auth.js";
import type { ApiContext } from "./context.js";

/**
 * Loading what a path names, or a 404 that says which part was missing. An
 * application the principal may not see is reported as missing, like one that
 * does not exist.
 */

export async function findApp(ctx: ApiContext, req: FastifyRequest, ref: string): Promise<Application> {
  const app = await ctx.store.getApplication(ref);
  if (!app || !canSeeApp(req.principal, app.id)) throw notFound("application", ref);
  return app;
}

export async function findEndpoint(ctx: ApiContext, req: FastifyRequest, params: { app: string; ep: string }): Promise<{ app: Application; endpoint: Endpoint }> {
  const app = await findApp(ctx, req, params.app);
  const endpoint = isId("ep", params.ep) ? await ctx.store.getEndpoint(app.id, params.ep) : null;
  if (!endpoint) throw notFound("endpoint", params.ep);
  return { app, endpoint };
}

export async function findMessage(ctx: ApiContext, req: FastifyRequest, params: { app: string; msg: string }): Promise<{ app: Application; message: Message }> {
  const app = await findApp(ctx, req, params.app);
  const message = isId("msg", params.msg) ? await ctx.store.getMessage(app.id, params.msg) : null;
  if (!message) throw notFound("message", params.msg);
  return { app, message };
}
