import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.ts';

describe('SseParser', () => {
  it('parses blocks separated by blank lines, with event, data and id', () => {
    const parser = new SseParser();
    const messages = parser.push(
      ': chainr event stream\n\nevent: run\ndata: {"a":1}\n\nid: 5-0\nevent: job\ndata: {"b":2}\n\n',
    );
    expect(messages).toEqual([
      { event: 'run', data: '{"a":1}' },
      { event: 'job', data: '{"b":2}', id: '5-0' },
    ]);
  });

  it('completes a message split across chunks at any point', () => {
    const text = 'event: job\ndata: {"x":"y"}\nid: 1-1\n\nevent: end\ndata: {}\n\n';
    for (let cut = 0; cut <= text.length; cut++) {
      const parser = new SseParser();
      const messages = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))];
      expect(messages.map((m) => m.event)).toEqual(['job', 'end']);
      expect(messages[0]?.data).toBe('{"x":"y"}');
    }
  });

  it('accepts CRLF and CR line endings, even split between chunks', () => {
    const parser = new SseParser();
    expect(parser.push('event: a\r\ndata: 1\r')).toEqual([]);
    expect(parser.push('\n\r\nevent: b\rdata: 2\r\r')).toEqual([
      { event: 'a', data: '1' },
      { event: 'b', data: '2' },
    ]);
  });

  it('joins several data lines, defaults the event name, and keeps the last id', () => {
    const parser = new SseParser();
    expect(parser.push('id: 1\ndata: one\ndata:two\n\ndata: three\n\n')).toEqual([
      { event: 'message', data: 'one\ntwo', id: '1' },
      { event: 'message', data: 'three', id: '1' },
    ]);
  });

  it('ignores comments and blocks without data', () => {
    const parser = new SseParser();
    expect(parser.push(': keep-alive\n\nevent: lonely\n\n: x\n')).toEqual([]);
  });
});
