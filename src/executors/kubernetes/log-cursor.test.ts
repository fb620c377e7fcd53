import { describe, expect, it } from 'vitest';
import { LogCursor, splitTimestamp } from './log-cursor.ts';

const feed = (cursor: LogCursor, lines: string[]) =>
  lines.map((l) => cursor.accept(l)).filter((t) => t !== undefined);

describe('splitTimestamp', () => {
  it('reads RFC 3339 times with any fraction, as Go trims it, into a fixed width', () => {
    expect(splitTimestamp('2024-05-01T12:00:00.5Z hello world')).toEqual({
      time: '2024-05-01T12:00:00.500000000Z',
      text: 'hello world',
    });
    expect(splitTimestamp('2024-05-01T12:00:00Z ')).toEqual({
      time: '2024-05-01T12:00:00.000000000Z',
      text: '',
    });
    expect(splitTimestamp('no time here')).toBeUndefined();
  });
});

describe('LogCursor', () => {
  it('delivers every line of a first read and starts from the beginning', () => {
    const cursor = new LogCursor();
    expect(cursor.since()).toBeUndefined();
    expect(feed(cursor, ['2024-05-01T12:00:00.1Z a', '2024-05-01T12:00:01.2Z b'])).toEqual([
      'a',
      'b',
    ]);
    expect(cursor.since()).toBe('2024-05-01T12:00:01Z');
  });

  it('skips, after a reconnection, what it delivered from the resumed second', () => {
    const cursor = new LogCursor();
    feed(cursor, [
      '2024-05-01T12:00:00.9Z a',
      '2024-05-01T12:00:01.1Z b',
      '2024-05-01T12:00:01.2Z c',
    ]);
    cursor.resume();
    // The server resends the whole second 12:00:01, then new lines.
    expect(
      feed(cursor, [
        '2024-05-01T12:00:01.1Z b',
        '2024-05-01T12:00:01.2Z c',
        '2024-05-01T12:00:01.3Z d',
      ]),
    ).toEqual(['d']);
  });

  it('keeps distinct lines that share one timestamp, across a reconnection', () => {
    const cursor = new LogCursor();
    const t = '2024-05-01T12:00:00.123Z';
    expect(feed(cursor, [`${t} x`, `${t} x`])).toEqual(['x', 'x']);
    cursor.resume();
    expect(feed(cursor, [`${t} x`, `${t} x`, `${t} y`])).toEqual(['y']);
  });

  it('passes lines without a timestamp through', () => {
    expect(feed(new LogCursor(), ['plain'])).toEqual(['plain']);
  });
});
