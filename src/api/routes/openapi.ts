import type { FastifyInstance } from "fastify";
import type { EventType } from "../../store/model.js";
import type { Store } from "../../store/store.js";
import type { ApiContext } from "../context.js";
import { DOCS_CSP, renderDocsPage } from "../openapi/docs-page.js";
import { buildOpenApiDocument } from "../openapi/document.js";
import { routeTable } from "../route-table.js";

/** Most catalog entries one document lists (a catalog beyond this is cut, and says so in the log). */
const MAX_EVENT_TYPES = 5_000;

async function wholeCatalog(store: Store): Promise<EventType[]> {
  const types: EventType[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listEventTypes({ limit: 250, cursor, includeArchived: true });
    types.push(...page.data);
    cursor = page.nextCursor ?? undefined;
  } while (cursor && types.length < MAX_EVENT_TYPES);
  // Oldest first: the order they were added to the catalog.
  return types.reverse();
}

/**
 * `GET /openapi.json` and `GET /docs`, without auth (like the catalog they
 * describe, they carry no tenant data). Built per request from the route table
 * and the current catalog.
 */
export function openApiRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const document = async () => buildOpenApiDocument(routeTable(app), await wholeCatalog(ctx.store));

  app.get(
    "/openapi.json",
    {
      schema: {
        summary: "This API as an OpenAPI 3.1 document, with a webhook entry per catalog event type",
        tags: ["Operations"],
        response: { 200: { type: "object", description: "An OpenAPI 3.1 document" } },
      },
    },
    async (_req, reply) => reply.type("application/json; charset=utf-8").send(JSON.stringify(await document())),
  );

  app.get("/docs", { schema: { hide: true } }, async (_req, reply) =>
    reply.header("content-security-policy", DOCS_CSP).type("text/html; charset=utf-8").send(renderDocsPage(await document())),
  );
}
