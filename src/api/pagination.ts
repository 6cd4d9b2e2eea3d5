import { Type } from "@sinclair/typebox";
import { invalid } from "../core/errors.js";
import { type IdPrefix, isId } from "../core/ids.js";
import type { Page, PageRequest } from "../store/store.js";

/**
 * Cursor pagination, the same on every list: `?limit=` (1–250, default 50) and
 * `?cursor=` (the `nextCursor` of the previous page) → `{data, nextCursor}`,
 * newest first, `nextCursor` null on the last page.
 */

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 250;

/** Spread into a route's query schema. */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_LIMIT })),
  cursor: Type.Optional(
    Type.String({
      maxLength: 64,
      pattern: "^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$",
      description: "the nextCursor of a previous page",
    }),
  ),
};

/**
 * The store's page request. A cursor is the id of the last row of the previous
 * page, so one of another kind (an `ep_` id on the message list) is refused
 * rather than silently answered with a wrong page.
 */
export function pageRequest(query: { limit?: number | undefined; cursor?: string | undefined }, kind: IdPrefix): PageRequest {
  if (query.cursor !== undefined && !isId(kind, query.cursor)) {
    throw invalid("query.cursor", "must be the nextCursor of a previous page of this list");
  }
  return { limit: query.limit ?? DEFAULT_LIMIT, cursor: query.cursor };
}

/** A store page as the API answers it. */
export function pageOf<T, R>(page: Page<T>, serialize: (row: T) => R): { data: R[]; nextCursor: string | null } {
  return { data: page.data.map(serialize), nextCursor: page.nextCursor };
}
