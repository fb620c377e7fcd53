import { describe, expect, it } from 'vitest';
import {
  escapeControls,
  escapeStrings,
  StreamEscaper,
  countsLine,
  formatAge,
  formatDuration,
  paint,
  statusSymbol,
  stripAnsi,
  table,
  truncate,
  visibleWidth,
} from './format.ts';

describe('paint', () => {
  it('wraps text in ANSI codes only when colour is on', () => {
    expect(paint('ok', 'green', true)).toBe('\x1b[32mok\x1b[39m');
    expect(paint('ok', 'green', false)).toBe('ok');
    expect(paint('', 'red', true)).toBe('');
  });
});

describe('widths', () => {
  it('measures and cuts lines without counting colour codes', () => {
    const line = `${paint('abc', 'red', true)}defgh`;
    expect(visibleWidth(line)).toBe(8);
    expect(truncate(line, 8)).toBe(line);
    const cut = truncate(line, 5);
    expect(stripAnsi(cut)).toBe('abcd…');
    expect(cut.endsWith('\x1b[0m')).toBe(true);
    expect(truncate('plain text', 6)).toBe('plain…');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [42.7, '42ms'],
    [999, '999ms'],
    [1000, '1.0s'],
    [12_349, '12.3s'],
    [59_999, '59.9s'],
    [60_000, '1m00s'],
    [184_000, '3m04s'],
    [3_600_000, '1h00m'],
    [7_500_000, '2h05m'],
    [90_000_000, '1d01h'],
    [-5, '0ms'],
  ])('%d ms is %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe('formatAge', () => {
  it.each([
    [0, '0s'],
    [59_000, '59s'],
    [60_000, '1m'],
    [3_599_000, '59m'],
    [7_200_000, '2h'],
    [4 * 86_400_000, '4d'],
  ])('%d ms ago is %s', (ms, text) => expect(formatAge(ms)).toBe(text));
});

describe('statusSymbol', () => {
  it('spins while running when given a frame, and has a symbol for every status', () => {
    expect(statusSymbol('RUNNING', 0)).toBe('⠋');
    expect(statusSymbol('RUNNING', 11)).toBe('⠙');
    expect(statusSymbol('RUNNING')).toBe('▶');
    expect(statusSymbol('SUCCESSFUL', 3)).toBe('✓');
    expect(statusSymbol('FAILED')).toBe('✗');
    expect(statusSymbol('SKIPPED')).toBe('↷');
    expect(statusSymbol('CANCELED')).toBe('⊘');
    expect(statusSymbol('PENDING')).toBe('·');
  });
});

describe('table', () => {
  it('aligns columns by visible width and does not pad the last one', () => {
    expect(
      table([
        ['A', 'BB', 'C'],
        [paint('long', 'red', true), 'x', 'y'],
      ]).map(stripAnsi),
    ).toEqual(['A     BB  C', 'long  x   y']);
  });
});

describe('countsLine', () => {
  it('counts statuses in a fixed order and leaves zeros out', () => {
    expect(countsLine(['SKIPPED', 'SUCCESSFUL', 'FAILED', 'SUCCESSFUL'])).toBe(
      '2 successful, 1 failed, 1 skipped',
    );
    expect(countsLine([])).toBe('');
  });
});

describe('escapeControls', () => {
  it('shows control characters as escapes, keeping tabs, and line ends in text of lines', () => {
    const text = 'a\x1b]0;t\x07b\tc\x9b2J\u202ed\x7f\r\ne\rf\n';
    expect(escapeControls(text)).toBe(
      'a\\x1b]0;t\\x07b\tc\\x9b2J\\u202ed\\x7f\\x0d\\x0ae\\x0df\\x0a',
    );
    expect(escapeControls(text, true)).toBe('a\\x1b]0;t\\x07b\tc\\x9b2J\\u202ed\\x7f\r\ne\\x0df\n');
  });

  it('escapes every string of a value, keys included', () => {
    expect(escapeStrings({ n: 1, a: ['x\x1b'], [`k\x07`]: { b: null } })).toEqual({
      n: 1,
      a: ['x\\x1b'],
      'k\\x07': { b: null },
    });
  });

  it('keeps a CR LF split between two chunks of a stream', () => {
    const s = new StreamEscaper();
    expect(s.push('a\r') + s.push('\nb\r') + s.push('c') + s.push('\r') + s.flush()).toBe(
      'a\r\nb\\x0dc\\x0d',
    );
  });
});
