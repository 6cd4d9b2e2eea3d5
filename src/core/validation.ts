import type { Static, TSchema } from "@sinclair/typebox";
import { Ajv, type ErrorObject } from "ajv";
import addFormats from "ajv-formats";
import { type FieldError, HeraldError } from "./errors.js";

/**
 * Validation shared by the HTTP API, the library and the catalog: TypeBox
 * schemas compiled by Ajv, and Ajv's errors turned into the
 * `errors: [{path, message}]` of a 422 problem. No HTTP here: the Fastify
 * wiring is `src/api/validation.ts`.
 */

export function makeAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({
    coerceTypes,
    // Unknown fields are errors, never silently dropped; report every violation at once
    // (schemas bound every string and array, so allErrors cannot be made to run long).
    removeAdditional: false,
    allErrors: true,
    useDefaults: false,
    discriminator: true,
    allowUnionTypes: true,
    // parentSchema in errors: lets messages quote a field's `description` instead of a regex.
    verbose: true,
  });
  addFormats.default(ajv, ["date-time", "date", "time", "email", "uri", "uuid", "ipv4", "ipv6", "hostname"]);
  return ajv;
}

const PART_PREFIX: Record<string, string> = { querystring: "query", params: "params", headers: "headers" };

/**
 * Body paths are JSON pointers into the body (`/url`, `/events/0`, `/` for the
 * body itself); other parts are named `query.limit`, `params.app`, `headers.idempotency-key`.
 */
function fieldPath(part: string, pointer: string): string {
  const prefix = PART_PREFIX[part];
  if (prefix === undefined) return pointer || "/";
  return prefix + pointer.replaceAll("/", ".");
}

function describe(error: ErrorObject, part: string): string {
  const params = error.params as Record<string, unknown>;
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  switch (error.keyword) {
    case "additionalProperties":
      return "is not a known field";
    case "required":
      return "is required";
    case "pattern":
    case "format":
      return description ? `must be ${description}` : (error.message ?? "is invalid");
    case "type":
      if (part === "body" && error.instancePath === "" && params.type === "object") return "must be a JSON object (send a JSON body)";
      return `must be ${String(params.type).split(",").join(" or ")}`;
    case "enum":
      return `must be one of: ${(params.allowedValues as unknown[]).join(", ")}`;
    case "discriminator": {
      const branches = (error.parentSchema as { oneOf?: { properties: Record<string, { const?: string }> }[] }).oneOf ?? [];
      const tag = String(params.tag);
      return `must be one of: ${branches.map((b) => b.properties[tag]?.const).join(", ")}`;
    }
    default:
      return error.message ?? "is invalid";
  }
}

/** A key as one JSON-pointer segment (RFC 6901: `~` → `~0`, `/` → `~1`), as Ajv's own paths are. */
export const escapeKey = (key: unknown): string => String(key).replaceAll("~", "~0").replaceAll("/", "~1");

const isNullBranch = (e: ErrorObject): boolean => e.keyword === "type" && (e.params as { type?: unknown }).type === "null";

/** Every violation Ajv reported, one per offending value, in a form a person can act on. */
export function fieldErrors(errors: readonly ErrorObject[], part: string): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const params = error.params as Record<string, unknown>;
    let pointer = error.instancePath;
    // propertyNames reports the offending key's own failure, then a summary: keep the first.
    if (error.keyword === "propertyNames") continue;
    if (error.propertyName !== undefined) pointer += `/${escapeKey(error.propertyName)}`;
    if (error.keyword === "additionalProperties") pointer += `/${escapeKey(params.additionalProperty)}`;
    else if (error.keyword === "required") pointer += `/${escapeKey(params.missingProperty)}`;
    else if (error.keyword === "discriminator") pointer += `/${escapeKey(params.tag)}`;
    // A nullable union (`anyOf: [null, X]`) reports a failure per branch: keep the
    // failures inside X, drop "must be null" and the summary "must match a schema in anyOf".
    if (isNullBranch(error)) continue;
    if (error.keyword === "anyOf" && errors.some((e) => e !== error && !isNullBranch(e) && e.instancePath.startsWith(error.instancePath))) continue;
    const entry = { path: fieldPath(part, pointer), message: describe(error, part) };
    const key = `${entry.path}\0${entry.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(entry);
  }
  return out;
}

let libraryAjv: Ajv | null = null;

/**
 * A checker for library callers (`Herald#createEndpoint` …): the same schema and
 * the same messages as the HTTP API, thrown as a `validation_failed` HeraldError.
 */
export function checker<S extends TSchema>(schema: S): (value: unknown) => Static<S> {
  libraryAjv ??= makeAjv(false);
  const validate = libraryAjv.compile(schema);
  return (value) => {
    if (validate(value)) return value as Static<S>;
    const errors = fieldErrors(validate.errors ?? [], "body");
    throw new HeraldError("validation_failed", errors.map((e) => `${e.path}: ${e.message}`).join("; "), errors);
  };
}
