import type { ServerResponse } from "node:http";
import { type Received, type Receiver, startReceiver } from "./receiver.js";

/** What a FIFO test receiver saw at one path: the `n` of each payload in arrival order, and the most requests it had open at once. */
export interface Arrivals {
  order: number[];
  maxConcurrent: number;
  open: number;
}

/**
 * A real receiver on 127.0.0.1 for ordering tests: every payload carries
 * `{n}`; it answers after `delayMs` (so overlapping attempts would show) with
 * the status `status(n, timesSeenBefore)` gives (default 200), and records,
 * per path, the arrival order and the highest concurrency.
 */
export async function startArrivalsReceiver(
  options: { delayMs?: number; status?: (n: number, seenBefore: number, path: string) => number } = {},
): Promise<Receiver & { at(path: string): Arrivals }> {
  const byPath = new Map<string, Arrivals>();
  const at = (path: string): Arrivals => {
    let a = byPath.get(path);
    if (!a) {
      a = { order: [], maxConcurrent: 0, open: 0 };
      byPath.set(path, a);
    }
    return a;
  };
  const receiver = await startReceiver(async (r: Received, res: ServerResponse) => {
    const a = at(r.path);
    const n = (JSON.parse(r.body) as { n: number }).n;
    const seenBefore = a.order.filter((x) => x === n).length;
    a.order.push(n);
    a.open++;
    a.maxConcurrent = Math.max(a.maxConcurrent, a.open);
    await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 2));
    a.open--;
    res.statusCode = options.status?.(n, seenBefore, r.path) ?? 200;
    res.end();
  });
  return Object.assign(receiver, { at });
}

/** 1..n */
export const upTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
