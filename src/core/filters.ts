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
