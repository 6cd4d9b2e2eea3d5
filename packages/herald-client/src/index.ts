export { createHeraldClient, type HeraldClient, type HeraldClientOptions } from "./client.js";
export { HeraldApiError, type Problem, type ProblemError } from "./errors.js";
export type { components, operations, paths } from "./generated/schema.js";
export type { CallOptions, HttpMethod, InitArgs, PageItem, PaginatedPaths, PathsWith, RequestInit, ResponseData } from "./types.js";

import type { components } from "./generated/schema.js";
/** The API's objects, by their OpenAPI component name: `Schemas["Application"]`, `Schemas["Endpoint"]`, `Schemas["Message"]` … */
export type Schemas = components["schemas"];
