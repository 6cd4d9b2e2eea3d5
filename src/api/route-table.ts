import type { FastifyInstance, RouteOptions } from "fastify";

/**
 * Every route the server registers, collected by an `onRoute` hook. The OpenAPI
 * document is built from it, and the tenancy tests walk it, so a new route is
 * documented and probed without anyone listing it by hand.
 */

declare module "fastify" {
  interface FastifySchema {
    /** OpenAPI operation summary (one line). */
    summary?: string;
    /** OpenAPI operation description (Markdown). */
    description?: string;
    /** OpenAPI tags; the first one groups the operation on `/docs`. */
    tags?: readonly string[];
    /** Left out of the OpenAPI document (HTML pages and their files). */
    hide?: boolean;
  }
  interface FastifyContextConfig {
    /** Only the admin key may call it: an application-scoped token gets 403. */
    adminOnly?: boolean;
    /** Not counted by the management API's rate limit for admin keys (publishing); portal tokens are counted everywhere. */
    unmetered?: boolean;
    /** How deep this route's JSON body may nest (default: `MAX_BODY_DEPTH`); the bulk publish's envelope is deeper. */
    maxBodyDepth?: number;
    /** How many requests this one counts as for the rate limit, from its validated body (default 1; a bulk publish: its messages). */
    cost?: (body: unknown) => number;
  }
}

export interface RouteEntry {
  method: string;
  /** With its prefix, in Fastify's syntax: `/api/v1/applications/:app`. */
  url: string;
  schema: RouteOptions["schema"] | undefined;
  adminOnly: boolean;
}

const tables = new WeakMap<object, RouteEntry[]>();

/** Starts collecting the routes of `app` (call before any route is added). */
export function collectRoutes(app: FastifyInstance): void {
  const entries: RouteEntry[] = [];
  tables.set(app, entries);
  app.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // HEAD routes are Fastify's automatic twins of GET ones.
      if (method === "HEAD") continue;
      entries.push({ method, url: route.url, schema: route.schema, adminOnly: route.config?.adminOnly === true });
    }
  });
}

/** The routes registered on `app` so far (empty for an app built elsewhere). */
export function routeTable(app: FastifyInstance): readonly RouteEntry[] {
  return tables.get(app) ?? [];
}
