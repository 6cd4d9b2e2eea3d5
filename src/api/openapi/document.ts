import type { EventType } from "../../store/model.js";
import { VERSION } from "../../version.js";
import type { RouteEntry } from "../route-table.js";
import { componentRef, componentSchemas, toJsonSchema } from "./schema-json.js";
import { SIGNATURE_HEADERS, webhookEntry } from "./webhooks.js";

/**
 * The OpenAPI 3.1 document, built from the server's route table (every route
 * with a schema that is not `hide`den) and the event catalog (`webhooks`).
 */

type Json = Record<string, unknown>;

const TAGS = [
  { name: "Applications", description: "Tenants: each has its own endpoints and messages." },
  { name: "Event types", description: "The event catalog: names, descriptions, payload schemas and examples." },
  { name: "Endpoints", description: "Where an application's messages are delivered, and what happened to them." },
  { name: "Messages", description: "Publishing, and the log of each message's deliveries and attempts." },
  { name: "Portal", description: "Application-scoped tokens for the consumer portal." },
  { name: "Admin keys", description: "Further admin API keys: created, listed, revoked." },
  { name: "Operational events", description: "Herald's own events about endpoints and deliveries." },
  { name: "Operations", description: "Health, readiness, metrics and this document." },
];

const REASONS: Record<string, string> = {
  "200": "OK",
  "201": "Created",
  "202": "Accepted",
  "204": "No content",
  "503": "Unavailable",
};

/** Routes documented without a schema of their own (their files are not the API layer's). */
const EXTRA_OPERATIONS: Record<string, Json> = {
  "GET /metrics": {
    summary: "Prometheus metrics (text format 0.0.4)",
    tags: ["Operations"],
    responses: { "200": { description: "OK", content: { "text/plain": { schema: { type: "string" } } } } },
  },
};

const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

function operationId(method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

function parameters(schema: Json | undefined, where: "path" | "query"): Json[] {
  const properties = (schema?.properties ?? {}) as Record<string, Json>;
  const required = new Set((schema?.required ?? []) as string[]);
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === "path" || required.has(name),
    ...(typeof s.description === "string" ? { description: s.description } : {}),
    schema: toJsonSchema(s),
  }));
}

function responses(schema: Record<string, unknown> | undefined, isApi: boolean): Json {
  const out: Json = {};
  for (const [code, s] of Object.entries(schema ?? {})) {
    const json = toJsonSchema(s) as Json;
    const noBody = code === "204" || (json.type === undefined && json.$ref === undefined && Object.keys(json).every((k) => k === "description"));
    out[code] = noBody ? { description: REASONS[code] ?? "No content" } : { description: REASONS[code] ?? "OK", content: { "application/json": { schema: json } } };
  }
  if (Object.keys(out).length === 0) out.default = { description: "OK" };
  if (isApi) {
    out["4XX"] = { $ref: "#/components/responses/Problem" };
    out["5XX"] = { $ref: "#/components/responses/Problem" };
  }
  return out;
}

function operation(route: RouteEntry): Json {
  const s = (route.schema ?? {}) as Json;
  const isApi = route.url.startsWith("/api/v1");
  const body = s.body as Json | undefined;
  const op: Json = {
    operationId: operationId(route.method, route.url),
    ...(s.summary ? { summary: s.summary } : {}),
    ...(s.description || route.adminOnly
      ? { description: [s.description, route.adminOnly ? "**Admin key only**: an application-scoped token gets 403." : ""].filter(Boolean).join("\n\n") }
      : {}),
    tags: s.tags ?? ["Operations"],
    parameters: [...parameters(s.params as Json | undefined, "path"), ...parameters(s.querystring as Json | undefined, "query")],
  };
  if (route.method === "POST" && route.url.endsWith("/messages")) {
    (op.parameters as Json[]).push({
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description: "1–256 printable ASCII characters; the same key within an application answers the first message",
      schema: { type: "string", maxLength: 256 },
    });
  }
  if (body) {
    const required = Array.isArray(body.required) && body.required.length > 0;
    op.requestBody = { required, content: { "application/json": { schema: toJsonSchema(body) } } };
  }
  op.responses = responses(s.response as Record<string, unknown> | undefined, isApi);
  if (!isApi) op.security = [];
  return op;
}

/**
 * The document. `eventTypes` are the whole catalog, archived ones included
 * (marked deprecated).
 *
 * @example
 * const doc = buildOpenApiDocument(routeTable(app), types);
 */
export function buildOpenApiDocument(routes: readonly RouteEntry[], eventTypes: readonly EventType[]): Json {
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const extra = EXTRA_OPERATIONS[`${route.method} ${route.url}`];
    const schema = route.schema as Json | undefined;
    if (!extra && (!schema || schema.hide)) continue;
    const path = openApiPath(route.url);
    const op = extra ? { operationId: operationId(route.method, route.url), ...extra, security: [] } : operation(route);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: op };
  }
  const webhooks: Record<string, Json> = {};
  for (const type of eventTypes) webhooks[type.name] = { post: webhookEntry(type) };
  return {
    openapi: "3.1.0",
    info: {
      title: "Herald API",
      version: VERSION,
      description:
        "Herald's management API (`/api/v1`, `Authorization: Bearer <key>`), and under `webhooks` every event type " +
        "of the catalog as its receivers get it: payload schema, examples and signature headers.",
    },
    jsonSchemaDialect: "https://spec.openapis.org/oas/3.1/dialect/base",
    servers: [{ url: "/" }],
    security: [{ bearerAuth: [] }],
    tags: TAGS,
    paths,
    webhooks,
    components: {
      schemas: componentSchemas(),
      responses: {
        Problem: {
          description: "An error, as RFC 9457 problem details with a stable `code`",
          content: { "application/problem+json": { schema: componentRef("Problem") } },
        },
      },
      parameters: SIGNATURE_HEADERS,
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          description: "An admin key (`HERALD_API_KEY`, the generated key, or one from `POST /api/v1/admin-keys`), or an application's portal token.",
        },
      },
    },
  };
}
