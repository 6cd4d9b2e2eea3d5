/**
 * The bounds of one transformation run (docs/delivery.md, "Transformations").
 * Every field has a default; Herald resolves them once (`resolveLimits`).
 */
export interface TransformLimits {
  /** Time a handler may run per call, checked inside QuickJS; the thread is stopped at twice this plus a second. Default: 100 ms. */
  timeoutMs: number;
  /** Memory of one sandbox (QuickJS runtime), the handler's code and data included. Default: 16 MiB. */
  memoryBytes: number;
  /** Stack of one sandbox: how deep the handler may recurse. Default: 256 KiB. */
  stackBytes: number;
  /** The longest JSON a handler may return (the webhook object, payload included). Default: 1 MiB. */
  maxOutputBytes: number;
}

export const DEFAULT_TRANSFORM_LIMITS: TransformLimits = {
  timeoutMs: 100,
  memoryBytes: 16 * 1024 * 1024,
  stackBytes: 256 * 1024,
  maxOutputBytes: 1024 * 1024,
} satisfies TransformLimits;

export function resolveLimits(limits: Partial<TransformLimits> = {}): TransformLimits {
  const out = { ...DEFAULT_TRANSFORM_LIMITS, ...limits };
  for (const [name, value] of Object.entries(out)) {
    if (!Number.isInteger(value) || value <= 0) throw new TypeError(`transformation limit ${name} must be a positive integer, got ${value}`);
  }
  return out;
}
