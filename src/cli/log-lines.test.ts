import { describe, expect, it } from 'vitest';
import { jobStyle, LinePrefixer, prefix } from './log-lines.ts';

describe('LinePrefixer', () => {
  it('prefixes whole lines and holds a partial one back until it is completed', () => {
    const lines = new LinePrefixer('a |');
    expect(lines.push('one\ntw')).toBe('a | one\n');
    expect(lines.push('o\n\nthr')).toBe('a | two\na | \n');
    expect(lines.push('ee')).toBe('');
    expect(lines.flush()).toBe('a | three\n');
    expect(lines.flush()).toBe('');
  });
});

describe('prefix', () => {
  it('pads names to a common width, coloured per job when colour is on', () => {
    expect(prefix('db', 6, jobStyle(0), false)).toBe('db     |');
    expect(prefix('db', 2, jobStyle(1), true)).toBe('\x1b[33mdb |\x1b[39m');
    expect(jobStyle(6)).toBe(jobStyle(0));
  });
});
