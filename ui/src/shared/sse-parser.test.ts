// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseMessage } from './sse-parser.ts';

function parse(chunks: string[]): SseMessage[] {
  const messages: SseMessage[] = [];
  const parser = createSseParser((m) => messages.push(m));
  for (const chunk of chunks) parser.push(chunk);
  return messages;
}

describe('createSseParser', () => {
  it('reads events, data and ids, skipping comments', () => {
    const text =
      ': chainr event stream\n\nid: 1-0\nevent: job\ndata: {"a":1}\n\n: keep-alive\n\nevent: end\ndata: {}\n\n';
    expect(parse([text])).toEqual([
      { event: 'job', data: '{"a":1}', id: '1-0' },
      { event: 'end', data: '{}', id: '1-0' },
    ]);
  });

  it('does not depend on how the text is split, nor on the line endings', () => {
    const text = 'event: run\r\ndata: line one\r\ndata: line two\r\n\r\ndata: plain\n\n';
    const whole = parse([text]);
    const byChar = parse(text.split(''));
    expect(byChar).toEqual(whole);
    expect(whole).toEqual([
      { event: 'run', data: 'line one\nline two' },
      { event: 'message', data: 'plain' },
    ]);
  });

  it('waits for the blank line before dispatching', () => {
    expect(parse(['event: job\ndata: x\n'])).toEqual([]);
  });
});
