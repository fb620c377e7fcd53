// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { findMatches, markSegments } from './log-search.ts';

describe('findMatches', () => {
  it('finds every occurrence, case-insensitively, in order', () => {
    expect(findMatches(['Error here', 'no', 'error, ERROR'], 'error')).toEqual([
      { line: 0, start: 0, end: 5 },
      { line: 2, start: 0, end: 5 },
      { line: 2, start: 7, end: 12 },
    ]);
    expect(findMatches(['aaaa'], 'aa')).toHaveLength(2);
    expect(findMatches(['x'], '')).toEqual([]);
    expect(findMatches(['a a a a'], 'a', 3)).toHaveLength(3);
  });
});

describe('markSegments', () => {
  it('splits styled segments where matches begin and end', () => {
    const segments = [
      { text: 'hello ', style: {} },
      { text: 'world', style: { fg: 2 } },
    ];
    expect(markSegments(segments, [{ start: 4, end: 8, current: true }])).toEqual([
      { text: 'hell', style: {} },
      { text: 'o ', style: {}, mark: 'current' },
      { text: 'wo', style: { fg: 2 }, mark: 'current' },
      { text: 'rld', style: { fg: 2 } },
    ]);
    expect(markSegments(segments, [])).toEqual(segments);
  });
});
