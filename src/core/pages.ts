/**
 * One page of a list merged from two sources that each page by the same key, descending (runs by
 * uid: the live store and the archive). Each source answers a page after the same cursor and
 * `next`, the last key it examined, when it has more. The merged page holds only keys both sources
 * have examined down to: beyond the higher `next`, one of them has not looked yet, and a key there
 * could still come before what the other one gave. An item both give is the first source's.
 */
export interface SourcePage<T> {
  items: readonly T[];
  /** The last key examined, when more follow; absent on the source's last page. */
  next?: string;
}

export function mergePages<T>(
  limit: number,
  keyOf: (item: T) => string,
  first: SourcePage<T>,
  second: SourcePage<T>,
): { items: T[]; next?: string } {
  const bound = [first.next, second.next]
    .filter((k): k is string => k !== undefined)
    .reduce<string | undefined>(
      (high, k) => (high === undefined || k > high ? k : high),
      undefined,
    );
  const byKey = new Map<string, T>();
  for (const item of [...second.items, ...first.items]) byKey.set(keyOf(item), item);
  const known = [...byKey.entries()]
    .filter(([key]) => bound === undefined || key >= bound)
    .sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0));
  const items = known.slice(0, limit).map(([, item]) => item);
  const last = known[limit - 1]?.[0];
  if (known.length > limit) return { items, next: last };
  // Every key down to the bound is on this page: the next one starts after it.
  return { items, ...(bound !== undefined && { next: bound }) };
}
