/**
 * Remembers `make(key)` per key, for values derived from keys that change
 * rarely (a signer per secret, a hash per code text). Bounded: when `limit`
 * keys are held, everything is forgotten and rebuilt on demand.
 *
 * @example
 * const signerFor = boundedMemo(10_000, (secret: string) => signer(secret));
 */
export function boundedMemo<V>(limit: number, make: (key: string) => V): (key: string) => V {
  const values = new Map<string, V>();
  return (key) => {
    let value = values.get(key);
    if (value === undefined) {
      if (values.size >= limit) values.clear();
      value = make(key);
      values.set(key, value);
    }
    return value;
  };
}
