// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { appendChunk, appendMarker, EMPTY_LOG, finish, lineCount } from './log-lines.ts';

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

describe('appendMarker', () => {
  it("ends the previous attempt's text and adds a row that is not a line of the job", () => {
    let log = appendChunk(EMPTY_LOG, 'one\n\x1b[31mred unterminated');
    log = appendMarker(log, 2, '2026-05-01T12:03:04.000Z');
    log = appendChunk(log, 'two\n');
    expect(log.text).toEqual(['one', 'red unterminated', '', 'two']);
    expect(log.markers).toEqual([{ row: 2, attempt: 2, startedAt: '2026-05-01T12:03:04.000Z' }]);
    // The colour of the first attempt does not run into the second.
    expect(log.segments[3]).toEqual([{ text: 'two', style: {} }]);
    expect(lineCount(log)).toBe(3);
  });

  it('moves the markers with the rows dropped beyond the cap, counting only lines as dropped', () => {
    let log = appendMarker(EMPTY_LOG, 1, undefined, 4);
    log = appendChunk(log, 'a\nb\n', 4);
    log = appendMarker(log, 2, undefined, 4);
    log = appendChunk(log, 'c\n', 4);
    expect(log.text).toEqual(['a', 'b', '', 'c']);
    log = appendChunk(log, 'd\n', 4);
    expect(log.text).toEqual(['b', '', 'c', 'd']);
    expect(log.markers).toEqual([{ row: 1, attempt: 2, startedAt: undefined }]);
    expect(log.dropped).toBe(1);
  });
});
