import type { FastifyRequest } from "fastify";

/**
 * How many times a request carried header `name` (lower-case). Node joins the
 * repeats of most headers into one value (`k1, k2`), which would then pass
 * for a single value: a header that must be sent once is checked with this.
 */
export function headerCount(req: FastifyRequest, name: string): number {
  const raw = req.raw.rawHeaders;
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) n++;
  return n;
}
