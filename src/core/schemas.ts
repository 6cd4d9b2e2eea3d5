import { type Static, type TObject, type TProperties, type TSchema, Type } from "@sinclair/typebox";
import { invalid } from "./errors.js";

/**
 * Request-schema building blocks shared by the routes. Every string and array is
 * bounded, and every object rejects unknown fields, so validation work per
 * request is bounded too. A `description` doubles as the error message of a
 * pattern or format failure ("must be <description>").
 */

/** An object schema that rejects unknown fields. */
export const Strict = <T extends TProperties>(properties: T): TObject<T> => Type.Object(properties, { additionalProperties: false });

/** `T` or null, as one JSON-Schema type list (so a failure reports one message, not one per branch). */
export const Nullable = <T extends TSchema>(schema: T) =>
  Type.Unsafe<Static<T> | null>({ ...schema, type: [(schema as unknown as { type: string }).type, "null"] });

/** A string that is one of `values`, reported as "must be one of: …". */
export const StringEnum = <const V extends readonly string[]>(values: V) =>
  Type.Unsafe<V[number]>({ type: "string", enum: [...values] });

/** Any JSON object (its fields are the producer's business). */
export const AnyObject = Type.Unsafe<Record<string, unknown>>({ type: "object" });

export const EventTypeName = Type.String({
  pattern: "^[A-Za-z0-9_.-]{1,256}$",
  description: "an event type name: 1–256 characters from A–Z, a–z, 0–9, '_', '.', '-'",
});

export const EventPattern = Type.String({
  maxLength: 256,
  pattern: "^(\\*|[A-Za-z0-9_-]+)(\\.(\\*|[A-Za-z0-9_-]+))*$",
  description: "an event type or a pattern: dot-separated segments of A–Z, a–z, 0–9, '_', '-', or '*' (e.g. order.*)",
});

export const Channel = Type.String({
  pattern: "^[A-Za-z0-9_.:-]{1,128}$",
  description: "a channel: 1–128 characters from A–Z, a–z, 0–9, '_', '.', ':', '-'",
});

export const Metadata = Type.Unsafe<Record<string, string>>({
  type: "object",
  maxProperties: 50,
  propertyNames: { minLength: 1, maxLength: 256 },
  additionalProperties: { type: "string", maxLength: 4096 },
});

export const DateTime = Type.String({
  maxLength: 64,
  format: "date-time",
  description: "an ISO-8601 date-time with a time zone, e.g. 2025-01-06T12:00:00Z",
});

/** `{app}` in a path: an `app_` id or the producer's uid (no format check: unknown → 404). */
export const AppParams = Strict({ app: Type.String({ minLength: 1, maxLength: 256 }) });
export const EndpointParams = Strict({
  app: Type.String({ minLength: 1, maxLength: 256 }),
  ep: Type.String({ minLength: 1, maxLength: 64 }),
});
export const MessageParams = Strict({
  app: Type.String({ minLength: 1, maxLength: 256 }),
  msg: Type.String({ minLength: 1, maxLength: 64 }),
});
export const MessageEndpointParams = Strict({
  app: Type.String({ minLength: 1, maxLength: 256 }),
  msg: Type.String({ minLength: 1, maxLength: 64 }),
  ep: Type.String({ minLength: 1, maxLength: 64 }),
});
export const NoQuery = Strict({});
export const EmptyBody = Strict({});

/**
 * preValidation hook for actions whose body is optional (`enable`, `rotate`,
 * `test`…): a request without a body is validated as `{}`.
 */
export async function optionalBody(req: { body: unknown }): Promise<void> {
  if (req.body === undefined || req.body === null) req.body = {};
}

/**
 * Epoch ms of a `DateTime` field. The schema's format check admits a few
 * spellings `Date` cannot read (a leap second `23:59:60`); those are a 422 too.
 */
export function epochMs(value: string, path: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw invalid(path, `must be an ISO-8601 date-time with a time zone, e.g. 2025-01-06T12:00:00Z`);
  return ms;
}
