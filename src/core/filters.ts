import { compileFilter, type PayloadFilter } from "./payload-filter.js";

/**
 * Event-type filters: a pattern matches an event type segment by segment
 * (split on "."), where `*` matches exactly one segment: `order.*` matches
 * `order.created` but neither `order` nor `order.status.changed`;
 * `*.created` matches `order.created`. The pattern `*` alone matches every
 * event type.
 */
export function matchesEventType(pattern: string, eventType: string): boolean {
  if (pattern === "*" || pattern === eventType) return true;
  const p = pattern.split(".");
  const e = eventType.split(".");
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    if (i >= e.length) return false;
    if (seg !== "*" && seg !== e[i]) return false;
  }
  return p.length === e.length;
}

/** Whether an endpoint with these filters wants a message (null/empty filter = everything). */
export function endpointWants(
  filter: { events: string[] | null; channels: string[] | null },
  message: { eventType: string; channels: string[] | null },
): boolean {
  if (filter.events && filter.events.length > 0) {
    if (!filter.events.some((p) => matchesEventType(p, message.eventType))) return false;
  }
  if (filter.channels && filter.channels.length > 0) {
    // An endpoint that names channels only receives messages sent on one of them.
    if (!message.channels?.some((c) => filter.channels!.includes(c))) return false;
  }
  return true;
}

/**
 * The endpoints that get a delivery of a message: those whose event types and
 * channels want it, and whose payload filter (if any) matches its payload.
 * The payload is parsed at most once, and only when an endpoint that passed
 * the first checks has a filter: apps without filters pay nothing.
 *
 * @example
 * const targets = endpointsFor(endpointsOfApp(db, appId), message);
 */
export function endpointsFor<E extends { events: string[] | null; channels: string[] | null; filter: PayloadFilter | null }>(
  endpoints: readonly E[],
  message: { eventType: string; channels: string[] | null; payload: string },
): E[] {
  let parsed: { value: unknown } | null | undefined;
  const payload = (): { value: unknown } | null => {
    if (parsed === undefined) {
      try {
        parsed = { value: JSON.parse(message.payload) };
      } catch {
        // Never for a stored message (its payload is JSON serialized by Herald);
        // a payload that cannot be read matches no filter.
        parsed = null;
      }
    }
    return parsed;
  };
  return endpoints.filter((e) => {
    if (!endpointWants(e, message)) return false;
    if (e.filter === null) return true;
    const p = payload();
    return p !== null && compileFilter(e.filter)(p.value);
  });
}

/** A list of channels as stored: each once, in first-seen order, or null for none (no channel restriction). */
export function distinctChannels(channels: readonly string[] | null | undefined): string[] | null {
  return !channels || channels.length === 0 ? null : [...new Set(channels)];
}
