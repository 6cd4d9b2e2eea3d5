// Types that turn the generated `paths` (openapi-typescript's output for
// Herald's /openapi.json) into the signatures of the client's calls: which
// paths take which method, the parameters and body each needs, and what a
// success answers.
import type { paths } from "./generated/schema.js";

export type HttpMethod = "get" | "put" | "post" | "delete" | "patch";

/** The paths that have an operation for `M`. */
export type PathsWith<M extends HttpMethod> = {
  [P in keyof paths]: paths[P] extends { [K in M]: infer O } ? ([O] extends [never] ? never : O extends undefined ? never : P) : never;
}[keyof paths];

/** The operation of `M` on `P`. */
export type Operation<P extends keyof paths, M extends HttpMethod> = paths[P] extends { [K in M]: infer O } ? O : never;

type RequiredKeys<T> = { [K in keyof T]-?: Record<never, never> extends Pick<T, K> ? never : K }[keyof T];

/** `path`, `query` and `header` parameters, without the ones the operation has none of. */
type Params<O> = O extends { parameters: infer P } ? { [K in keyof P as K extends "cookie" ? never : [NonNullable<P[K]>] extends [never] ? never : K]: P[K] } : Record<never, never>;

type ParamsOption<O> = [keyof Params<O>] extends [never]
  ? { params?: Record<string, never> }
  : [RequiredKeys<Params<O>>] extends [never]
    ? { params?: Params<O> }
    : { params: Params<O> };

type JsonBody<R> = R extends { content: { "application/json": infer B } } ? B : never;

type BodyOption<O> = O extends { requestBody: infer R }
  ? [JsonBody<R>] extends [never]
    ? { body?: never }
    : { body: JsonBody<R> }
  : O extends { requestBody?: infer R }
    ? [JsonBody<NonNullable<R>>] extends [never]
      ? { body?: never }
      : { body?: JsonBody<NonNullable<R>> }
    : { body?: never };

/** What every call also takes: extra headers and an abort signal. */
export interface CallOptions {
  /** Added to the request (e.g. a correlation id); `Authorization` is the client's. */
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** The second argument of a call to `P` with `M`: `params` (`path`, `query`, `header`) and `body`, as the operation has them. */
export type RequestInit<P extends keyof paths, M extends HttpMethod> = ParamsOption<Operation<P, M>> & BodyOption<Operation<P, M>> & CallOptions;

/** The argument list: the init is optional when the operation needs no parameter and no body. */
export type InitArgs<P extends keyof paths, M extends HttpMethod> = [RequiredKeys<RequestInit<P, M>>] extends [never]
  ? [init?: RequestInit<P, M>]
  : [init: RequestInit<P, M>];

type SuccessBody<R, C> = C extends 200 | 201 | 202 | 203 | 206
  ? R extends { content: infer Ct }
    ? Ct extends { "application/json": infer D }
      ? D
      : Ct extends { "text/plain": infer T }
        ? T
        : unknown
    : undefined
  : C extends 204 | 205
    ? undefined
    : never;

/** What a success of `M` on `P` answers (the JSON body; `undefined` for a 204). */
export type ResponseData<P extends keyof paths, M extends HttpMethod> = Operation<P, M> extends { responses: infer R }
  ? { [C in keyof R]: SuccessBody<R[C], C> }[keyof R]
  : never;

/** The GET paths that answer a page, `{data: T[], nextCursor}`. */
export type PaginatedPaths = {
  [P in PathsWith<"get">]: ResponseData<P, "get"> extends { data: unknown[]; nextCursor: string | null } ? P : never;
}[PathsWith<"get">];

/** An item of the pages `P` answers. */
export type PageItem<P extends PaginatedPaths> = ResponseData<P, "get"> extends { data: (infer T)[] } ? T : never;
