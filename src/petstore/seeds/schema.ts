/**
 * Small JSON Schema builders for the store's catalog entries. Each schema
 * describes the shape of the seed that defines its event type: every key of the
 * seed's example is required, with the example's JSON type, and extra keys are
 * allowed (the store adds a few, e.g. `reference`).
 */

export type Schema = Record<string, unknown>;

export const str: Schema = { type: "string" };
export const num: Schema = { type: "number" };
export const int: Schema = { type: "integer" };
export const time: Schema = { type: "string", format: "date-time" };
export const date: Schema = { type: "string", format: "date" };
/** A decimal string with two decimals, as seed 000 writes money ("125.50"). */
export const decimal: Schema = { type: "string", pattern: "^[0-9]+\\.[0-9]{2}$" };

export const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({ type: "object", properties, required });
export const arrayOf = (items: Schema): Schema => ({ type: "array", items });

/** A whole payload's schema: the root object, in JSON Schema 2020-12. */
export const payload = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({
  $schema: "https://json-schema.org/draft/2020-12/schema",
  ...obj(properties, required),
});

/** A catalog entry: the event type, the seed that defines its shape, its schema and examples. */
export interface EventTypeSpec {
  name: string;
  /** The seed whose example the payload follows ("000" … "004"). */
  seed: string;
  description: string;
  schema: Schema;
  /** The seed's own example first, verbatim (seed 004 documents none: the store's own then). */
  examples: Record<string, unknown>[];
}

/** One event to publish: its type and its payload. */
export interface StoreEvent {
  type: string;
  payload: Record<string, unknown>;
}
