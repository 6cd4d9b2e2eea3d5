import { Ajv, type AnySchema, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { type FieldError, HeraldError } from "../core/errors.js";
import { fieldErrors } from "../core/validation.js";
import { re2RegExp } from "./regexp.js";

/**
 * Event-type payload schemas: compiling them (with the JSON Schema dialect they
 * name) and turning their violations into the API's `errors: [{path, message}]`.
 *
 * Dialect: the schema's `$schema` decides: draft-07 (and draft-06), 2019-09 or
 * 2020-12; without `$schema`, 2020-12, the dialect of OpenAPI 3.1. Unknown
 * keywords (`example`, `x-…`) are ignored, as JSON Schema says they should be.
 * Each schema gets its own Ajv instance: no `$id` of one event type can clash
 * with another's, and a replaced schema's compiled code is freed with it.
 */

/** More violations than this in one payload are summarized by the first ones. */
export const MAX_REPORTED_ERRORS = 100;

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-0[67]\/schema#?$/;
const DRAFT_2019 = /^https?:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/;
const DRAFT_2020 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;

function ajvFor(schema: object): Ajv {
  const dialect = (schema as { $schema?: unknown }).$schema;
  // Patterns run on RE2 (linear time): payloads come from every tenant.
  const options = { strict: false, allErrors: true, verbose: true, validateFormats: true, code: { regExp: re2RegExp } } as const;
  let ajv: Ajv;
  if (dialect === undefined || (typeof dialect === "string" && DRAFT_2020.test(dialect))) ajv = new Ajv2020(options);
  else if (typeof dialect === "string" && DRAFT_2019.test(dialect)) ajv = new Ajv2019(options);
  else if (typeof dialect === "string" && DRAFT_07.test(dialect)) ajv = new Ajv(options);
  else {
    throw new HeraldError("validation_failed", "/schema/$schema: must be draft-07, 2019-09 or 2020-12 JSON Schema (or be left out: 2020-12)", [
      { path: "/schema/$schema", message: "must be the URI of draft-07, 2019-09 or 2020-12 JSON Schema (or be left out: 2020-12)" },
    ]);
  }
  addFormats.default(ajv);
  return ajv;
}

const prefixed = (prefix: string, errors: FieldError[]): FieldError[] =>
  errors.map((e) => ({ path: e.path === "/" ? prefix : prefix + e.path, message: e.message }));

/**
 * Compiles a payload schema, or throws `validation_failed` saying why it is not a
 * usable JSON Schema (its paths point into the request body's `/schema`).
 */
export function compileSchema(schema: object): ValidateFunction {
  const ajv = ajvFor(schema);
  if (!ajv.validateSchema(schema as AnySchema)) {
    const errors = prefixed("/schema", fieldErrors(ajv.errors ?? [], "schema")).slice(0, MAX_REPORTED_ERRORS);
    throw new HeraldError("validation_failed", `the schema is not a valid JSON Schema: ${errors.map((e) => `${e.path}: ${e.message}`).join("; ")}`, errors);
  }
  try {
    return ajv.compile(schema as AnySchema);
  } catch (err) {
    const message = `cannot be compiled: ${err instanceof Error ? err.message : String(err)}`.slice(0, 500);
    throw new HeraldError("validation_failed", `/schema: ${message}`, [{ path: "/schema", message }]);
  }
}

/** Every violation of `validate` by its last input, paths under `prefix` (e.g. `/payload`), capped. */
export function violations(validate: ValidateFunction, prefix: string): FieldError[] {
  const errors = (validate.errors ?? []) as ErrorObject[];
  return prefixed(prefix, fieldErrors(errors, "payload")).slice(0, MAX_REPORTED_ERRORS);
}

/** Throws `validation_failed` listing each example (`/examples/<i>/…`) that its schema rejects. */
export function checkExamples(validate: ValidateFunction, examples: readonly unknown[]): void {
  const errors: FieldError[] = [];
  examples.forEach((example, i) => {
    if (!validate(example)) errors.push(...violations(validate, `/examples/${i}`));
  });
  if (errors.length > 0) {
    const kept = errors.slice(0, MAX_REPORTED_ERRORS);
    throw new HeraldError("validation_failed", `examples do not match the schema: ${kept.map((e) => `${e.path}: ${e.message}`).join("; ")}`, kept);
  }
}
