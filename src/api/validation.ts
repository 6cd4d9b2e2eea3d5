import type { Static, TSchema } from "@sinclair/typebox";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifySchemaCompiler,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from "fastify";
import { makeAjv } from "../core/validation.js";

/**
 * Request validation, the Fastify side: the schema compiler and the route
 * typing. The schemas, Ajv and the 422 messages are `src/core/validation.ts`.
 */

/** Lets route handlers see `Static<typeof Schema>` for the schemas they declare. */
export interface TypeBoxProvider extends FastifyTypeProvider {
  validator: this["schema"] extends TSchema ? Static<this["schema"]> : unknown;
  serializer: this["schema"] extends TSchema ? Static<this["schema"]> : unknown;
}

/**
 * The server's schema compiler, built once. Bodies, path parameters and headers
 * are validated exactly as sent (a JSON `"5"` is not a number); only query strings,
 * which are always text, are coerced (`?limit=10` → 10).
 */
export function createValidatorCompiler(): FastifySchemaCompiler<TSchema> {
  const asSent = makeAjv(false);
  const coercing = makeAjv(true);
  return ({ schema, httpPart }) => (httpPart === "querystring" ? coercing : asSent).compile(schema);
}

/** The Fastify instance route modules register on. */
export type Api = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, TypeBoxProvider>;

