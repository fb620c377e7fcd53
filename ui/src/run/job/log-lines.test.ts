// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { appendChunk, EMPTY_LOG, finish } from './log-lines.ts';

describe('appendChunk', () => {
  it('splits text arriving in arbitrary chunks into lines', () => {
    let log = appendChunk(EMPTY_LOG, 'one\ntw');
    expect(log.text).toEqual(['one']);
    log = appendChunk(log, 'o\r\nthree');
    expect(log.text).toEqual(['one', 'two']);
    expect(finish(log).text).toEqual(['one', 'two', 'three']);
    expect(finish(EMPTY_LOG)).toBe(EMPTY_LOG);
  });

  it('keeps colours across chunk and line boundaries', () => {
    let log = appendChunk(EMPTY_LOG, '\x1b[3');
    log = appendChunk(log, '2mgreen\nstill\n');
    expect(log.text).toEqual(['green', 'still']);
    expect(log.segments[1]).toEqual([{ text: 'still', style: { fg: 2 } }]);
  });

  it('drops the oldest lines beyond the cap, and counts them', () => {
    const log = appendChunk(EMPTY_LOG, 'a\nb\nc\nd\n', 3);
    expect(log.text).toEqual(['b', 'c', 'd']);
    expect(log.dropped).toBe(1);
  });
});
