/** Small helpers for the batch paths (one statement for many rows, then regrouping). */

/** One item per key, folding later items into the first in order. */
export function mergeBy<T>(items: readonly T[], key: (item: T) => string, merge: (first: T, later: T) => T): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    const seen = byKey.get(k);
    byKey.set(k, seen === undefined ? item : merge(seen, item));
  }
  return [...byKey.values()];
}

/** Items by key, in order, each mapped. */
export function groupBy<T, K, U>(items: readonly T[], key: (item: T) => K, map: (item: T) => U): Map<K, U[]> {
  const groups = new Map<K, U[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(map(item));
    else groups.set(k, [map(item)]);
  }
  return groups;
}
