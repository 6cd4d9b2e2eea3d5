// @ts-check
// The event catalog as a customer sees it: event types grouped by prefix
// (`order.created` under "order"), each with its description (Markdown,
// rendered), its JSON Schema as a readable field list and an example. Also
// says whether a subscription (`order.*`, `pet.adopted`) matches any type in it.

import { h } from "/dashboard/dom.js";
import { markdown } from "./markdown.js";

/**
 * @typedef {{name: string, description: string, schema: any, examples: unknown[], archived: boolean}} EventType
 */

/** Every event type in the catalog, archived ones left out. @param {(m: string, p: string) => Promise<any>} call */
export async function loadCatalog(call) {
  /** @type {EventType[]} */
  const types = [];
  let cursor = null;
  do {
    const page = await call("GET", `/event-types?limit=250${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    types.push(...page.data);
    cursor = page.nextCursor;
  } while (cursor && types.length < 2000);
  return types.filter((t) => !t.archived).sort((a, b) => a.name.localeCompare(b.name));
}

/** `order.created` → `order`; a name without a dot is its own group. @param {string} name */
export const prefixOf = (name) => (name.includes(".") ? name.slice(0, name.indexOf(".")) : name);

/** Types by prefix, in name order. @param {EventType[]} types */
export function groupByPrefix(types) {
  /** @type {Map<string, EventType[]>} */
  const groups = new Map();
  for (const t of types) groups.set(prefixOf(t.name), [...(groups.get(prefixOf(t.name)) ?? []), t]);
  return groups;
}

/**
 * Whether a subscription pattern matches a name: `*` stands for one dot
 * segment (`order.*` matches `order.created`), `["*"]` for everything, as the server decides.
 * @param {string} pattern @param {string} name
 */
export function matches(pattern, name) {
  if (pattern === "*") return true;
  const p = pattern.split(".");
  const n = name.split(".");
  return p.length === n.length && p.every((seg, i) => seg === "*" || seg === n[i]);
}

/** The patterns that match no type in the catalog. @param {string[]} patterns @param {EventType[]} types */
export function unknownPatterns(patterns, types) {
  return patterns.filter((p) => p !== "*" && !types.some((t) => matches(p, t.name)));
}

/** @param {any} schema */
function typeOf(schema) {
  if (!schema || typeof schema !== "object") return "any";
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((/** @type {unknown} */ v) => JSON.stringify(v)).join(", ")}`;
  if ("const" in schema) return `always ${JSON.stringify(schema.const)}`;
  const type = Array.isArray(schema.type) ? schema.type.join(" or ") : (schema.type ?? (schema.properties ? "object" : "any"));
  if (type === "array" && schema.items) return `array of ${typeOf(schema.items)}`;
  return schema.format ? `${type} (${schema.format})` : type;
}

/**
 * A JSON Schema as a nested list of its fields: name, type, required, description.
 * @param {any} schema @param {number} [depth]
 */
export function schemaView(schema, depth = 0) {
  const properties = schema?.properties ?? schema?.items?.properties;
  if (!properties || depth > 6) return null;
  const required = new Set(schema.required ?? schema.items?.required ?? []);
  return h(
    "ul",
    { class: "schema" },
    Object.entries(properties).map(([name, sub]) =>
      h(
        "li",
        null,
        h("code", null, name),
        " ",
        h("span", { class: "muted" }, typeOf(sub)),
        required.has(name) ? h("span", { class: "badge muted" }, "required") : null,
        /** @type {any} */ (sub)?.description ? h("div", { class: "small" }, /** @type {any} */ (sub).description) : null,
        schemaView(sub, depth + 1),
      ),
    ),
  );
}

/**
 * What a customer needs to build a receiver for one type: its schema and an example.
 * @param {EventType} type
 */
export function typeDetails(type) {
  return h(
    "div",
    { class: "type-details" },
    h("h4", null, "Payload fields"),
    type.schema ? (schemaView(type.schema) ?? h("pre", { class: "body" }, JSON.stringify(type.schema, null, 2))) : h("p", { class: "muted" }, "No schema: any JSON object."),
    h("h4", null, "Example"),
    type.examples?.length ? h("pre", { class: "body example" }, JSON.stringify(type.examples[0], null, 2)) : h("p", { class: "muted" }, "No example yet."),
  );
}

/** @param {EventType} type */
export const description = (type) => (type.description ? markdown(type.description) : h("p", { class: "muted" }, "No description."));
