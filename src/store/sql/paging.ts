import type { Page, PageRequest } from "../store.js";

/**
 * Newest-first keyset pagination on time-sortable ids: fetch `limit + 1` rows
 * with `id < cursor`, and the extra row tells whether a next page exists.
 * `MAX_CURSOR` sorts after every id, so "no cursor" needs no second query text.
 */
export const MAX_CURSOR = "\uffff";

export const cursorOf = (page: PageRequest): string => page.cursor ?? MAX_CURSOR;

export function toPage<R extends { id: string }, T>(rows: R[], limit: number, map: (row: R) => T): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  return { data: kept.map(map), nextCursor: more ? kept[kept.length - 1]!.id : null };
}
