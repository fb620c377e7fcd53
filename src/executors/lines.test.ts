import { describe, expect, it } from 'vitest';
import { cutLine, LineSplitter } from './lines.ts';

function split(chunks: string[], max: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter(max, (l) => lines.push(l));
  for (const c of chunks) splitter.push(Buffer.from(c));
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('splits lines across chunks, drops CR of CRLF, keeps a last line without newline', () => {
    expect(split(['one\r\ntw', 'o\n\nthr', 'ee'], 100)).toEqual(['one', 'two', '', 'three']);
  });

  it('cuts a line past the limit, however many chunks it spans, and counts what it dropped', () => {
    expect(split(['abcdef', 'ghij\nok\n'], 4)).toEqual([
      'abcd [chainr: line cut, 6 more bytes]',
      'ok',
    ]);
  });

  it('leaves out a multi-byte character cut in two', () => {
    expect(split(['ab\u00e9cd\n'], 3)).toEqual(['ab [chainr: line cut, 3 more bytes]']);
  });
});

describe('cutLine', () => {
  it('leaves a line within the limit alone and cuts a longer one the same way', () => {
    expect(cutLine('short', 8)).toBe('short');
    expect(cutLine('x'.repeat(10), 8)).toBe('xxxxxxxx [chainr: line cut, 2 more bytes]');
  });
});
