import { describe, expect, it } from 'vitest';
import { formatPosition, LogCursor, parsePosition, splitTimestamp } from './log-cursor.ts';

const feed = (cursor: LogCursor, lines: string[]) =>
  lines.map((l) => cursor.accept(l)).filter((t) => t !== undefined);

describe('splitTimestamp', () => {
  it('reads RFC 3339 stamps with any fraction, as Go trims it, down to their UTC second', () => {
    expect(splitTimestamp('2024-05-01T12:00:00.5Z hello world')).toEqual({
      second: '2024-05-01T12:00:00Z',
      text: 'hello world',
    });
    expect(splitTimestamp('2024-05-01T12:00:00Z ')).toEqual({
      second: '2024-05-01T12:00:00Z',
      text: '',
    });
    expect(splitTimestamp('2024-05-01T12:00:00.123456789Z a  b ')?.text).toBe('a  b ');
  });

  it('converts a stamp with a UTC offset (a node not on UTC) to its UTC second', () => {
    expect(splitTimestamp('2024-05-01T14:00:01.25+02:00 x')?.second).toBe('2024-05-01T12:00:01Z');
    expect(splitTimestamp('2024-05-01T23:30:00-01:00 x')?.second).toBe('2024-05-02T00:30:00Z');
  });

  it('finds no stamp in a line without one, or with a malformed one', () => {
    expect(splitTimestamp('no time here')).toBeUndefined();
    expect(splitTimestamp('2024-05-01T12:00:00.1234567890Z x')).toBeUndefined();
    expect(splitTimestamp('2024-13-01T12:00:00Z x')).toBeUndefined();
    expect(splitTimestamp('2024-05-01T12:00:00Zx')).toBeUndefined();
  });
});

describe('LogCursor', () => {
  it('delivers every line of a first read, from the start, and knows where they end', () => {
    const cursor = new LogCursor();
    expect(cursor.since()).toBeUndefined();
    expect(cursor.position()).toBeUndefined();
    expect(
      feed(cursor, [
        '2024-05-01T12:00:00.1Z a',
        '2024-05-01T12:00:01.2Z b',
        '2024-05-01T12:00:01.7Z c',
      ]),
    ).toEqual(['a', 'b', 'c']);
    expect(cursor.since()).toBe('2024-05-01T12:00:01Z');
    expect(cursor.position()).toEqual({ second: '2024-05-01T12:00:01Z', lines: 2 });
  });

  it('skips, after a reconnection, what it delivered from the resumed second', () => {
    const cursor = new LogCursor();
    feed(cursor, [
      '2024-05-01T12:00:00.9Z a',
      '2024-05-01T12:00:01.1Z b',
      '2024-05-01T12:00:01.2Z c',
    ]);
    cursor.resume();
    // The server sends the whole second 12:00:01 again, then new lines.
    expect(
      feed(cursor, [
        '2024-05-01T12:00:01.1Z b',
        '2024-05-01T12:00:01.2Z c',
        '2024-05-01T12:00:01.3Z d',
        '2024-05-01T12:00:02Z e',
      ]),
    ).toEqual(['d', 'e']);
    expect(cursor.position()).toEqual({ second: '2024-05-01T12:00:02Z', lines: 1 });
  });

  it('keeps distinct lines that share one stamp, across a reconnection', () => {
    const cursor = new LogCursor();
    const t = '2024-05-01T12:00:00.123Z';
    expect(feed(cursor, [`${t} x`, `${t} x`])).toEqual(['x', 'x']);
    cursor.resume();
    expect(feed(cursor, [`${t} x`, `${t} x`, `${t} x`, `${t} y`])).toEqual(['x', 'y']);
  });

  it('resumes from a position another reader recorded, including lines it had not delivered', () => {
    // The first reader delivered a, b, c; only a and b were recorded when it died.
    const first = new LogCursor();
    const log = [
      '2024-05-01T12:00:05.1Z a',
      '2024-05-01T12:00:05.2Z b',
      '2024-05-01T12:00:05.3Z c',
    ];
    feed(first, log.slice(0, 2));
    const recorded = first.position();
    feed(first, log.slice(2));
    const next = new LogCursor(recorded);
    expect(next.since()).toBe('2024-05-01T12:00:05Z');
    next.resume();
    expect(feed(next, [...log, '2024-05-01T12:00:06.0Z d'])).toEqual(['c', 'd']);
  });

  it('delivers a line stamped in an earlier second (stdout and stderr are stamped apart)', () => {
    const cursor = new LogCursor();
    expect(
      feed(cursor, [
        '2024-05-01T12:00:01.000001Z out',
        '2024-05-01T12:00:00.999999Z err',
        '2024-05-01T12:00:01.5Z out2',
      ]),
    ).toEqual(['out', 'err', 'out2']);
    // Reading from 12:00:01 again sends only the two lines of that second.
    expect(cursor.position()).toEqual({ second: '2024-05-01T12:00:01Z', lines: 2 });
  });

  it('stops skipping at a later second: the lines to skip are no longer in the log (rotated)', () => {
    const cursor = new LogCursor({ second: '2024-05-01T12:00:01Z', lines: 3 });
    cursor.resume();
    expect(feed(cursor, ['2024-05-01T12:00:01.9Z c', '2024-05-01T12:00:02Z d'])).toEqual(['d']);
  });

  it('passes lines without a stamp through', () => {
    expect(feed(new LogCursor(), ['plain'])).toEqual(['plain']);
  });
});

describe('positions as recorded with the log', () => {
  it('round-trips a pod, a second and a count', () => {
    const p = {
      pod: 'chainr-build-1-0123456789abcdef-x7k2p',
      second: '2024-05-01T12:00:01Z',
      lines: 3,
    };
    expect(formatPosition(p)).toBe('chainr-build-1-0123456789abcdef-x7k2p 2024-05-01T12:00:01Z 3');
    expect(parsePosition(formatPosition(p))).toEqual(p);
  });

  it('rejects anything else', () => {
    for (const text of [
      '',
      'pod',
      'pod 2024-05-01T12:00:01Z',
      'pod 2024-05-01T12:00:01Z 0',
      'pod 2024-05-01T12:00:01Z 1.5',
      'pod 2024-05-01T12:00:01.5Z 1',
      'pod 2024-05-01T12:00:01Z 1 extra',
      ' 2024-05-01T12:00:01Z 1',
    ])
      expect(parsePosition(text), text).toBeUndefined();
  });
});
