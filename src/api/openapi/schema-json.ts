import type { TSchema } from "@sinclair/typebox";
import { COMPONENTS } from "../responses.js";

/**
 * Route schemas as OpenAPI 3.1 Schema Objects (JSON Schema 2020-12): plain JSON
 * (TypeBox's symbol keys dropped), with every named response object replaced
 * by a `$ref` to its component.
 */

const byIdentity = new Map<unknown, string>(Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]));

export const componentRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** A deep, JSON-only copy of `schema`, named components referenced. `root` keeps the top level inline (for the component itself). */
export function toJsonSchema(schema: unknown, root = false): unknown {
  if (!root) {
    const name = byIdentity.get(schema);
    if (name) return componentRef(name);
  }
  if (Array.isArray(schema)) return schema.map((item) => toJsonSchema(item));
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) out[key] = toJsonSchema(value);
  return out;
}

/** The `components.schemas` section. */
export function componentSchemas(): Record<string, unknown> {
  return Object.fromEntries(Object.entries(COMPONENTS).map(([name, schema]) => [name, toJsonSchema(schema as TSchema, true)]));
}
