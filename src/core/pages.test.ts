import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mergePages, type SourcePage } from './pages.ts';

interface Item {
  key: string;
  from: 'first' | 'second';
}

/** A source's page as a store gives it: up to `limit` keys after the cursor, newest first. */
function pageOf(keys: string[], from: Item['from'], limit: number, after?: string) {
  const below = keys
    .filter((k) => after === undefined || k < after)
    .sort()
    .reverse();
  const items = below.slice(0, limit).map((key) => ({ key, from }));
  const page: SourcePage<Item> = { items };
  if (below.length > limit) page.next = items[items.length - 1]?.key;
  return page;
}

const key = (i: Item) => i.key;

describe('mergePages', () => {
  it('interleaves two sources newest first, the first source winning a key both have', () => {
    const page = mergePages(
      3,
      key,
      {
        items: [
          { key: 'e', from: 'first' },
          { key: 'c', from: 'first' },
        ],
      },
      {
        items: [
          { key: 'd', from: 'second' },
          { key: 'c', from: 'second' },
          { key: 'a', from: 'second' },
        ],
      },
    );
    expect(page).toEqual({
      items: [
        { key: 'e', from: 'first' },
        { key: 'd', from: 'second' },
        { key: 'c', from: 'first' },
      ],
      next: 'c',
    });
  });

  it('stops at the key a source examined down to when it has more', () => {
    // The first source looked down to `d` only: `c` in it is unknown, so `b` cannot be shown yet.
    const page = mergePages(
      5,
      key,
      { items: [{ key: 'f', from: 'first' }], next: 'd' },
      {
        items: [
          { key: 'e', from: 'second' },
          { key: 'b', from: 'second' },
        ],
      },
    );
    expect(page).toEqual({
      items: [
        { key: 'f', from: 'first' },
        { key: 'e', from: 'second' },
      ],
      next: 'd',
    });
  });

  it('pages through two overlapping sources showing every key once, in order', () => {
    const keys = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,3}$/), { maxLength: 40 });
    fc.assert(
      fc.property(keys, keys, fc.integer({ min: 1, max: 7 }), (first, second, limit) => {
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 100; pages++) {
          const page = mergePages(
            limit,
            key,
            pageOf(first, 'first', limit, after),
            pageOf(second, 'second', limit, after),
          );
          expect(page.items.length).toBeLessThanOrEqual(limit);
          for (const item of page.items) {
            seen.push(item.key);
            if (first.includes(item.key)) expect(item.from).toBe('first');
          }
          if (page.next === undefined) break;
          after = page.next;
        }
        const all = [...new Set([...first, ...second])].sort().reverse();
        expect(seen).toEqual(all);
      }),
    );
  });
});
