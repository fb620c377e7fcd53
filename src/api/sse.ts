/**
 * A Server-Sent Events parser (the WHATWG event-stream format): text in, whole messages out.
 * Pure, so that it is tested without a server; the API client (client.ts) and the UI's event
 * streams feed it decoded chunks.
 */

export interface SseMessage {
  /** The `event:` field; `message` when the block has none. */
  event: string;
  /** The `data:` lines joined with newlines. */
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private event = '';
  private data: string[] = [];
  private id: string | undefined;
  /** A chunk may end between the `\r` and `\n` of one line ending. */
  private skipLeadingLf = false;

  /** Feeds a chunk of text; returns the messages it completed. */
  push(chunk: string): SseMessage[] {
    let text = chunk;
    if (this.skipLeadingLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLeadingLf = false;
    this.buffer += text;
    const messages: SseMessage[] = [];
    for (;;) {
      const end = this.buffer.search(/\r\n|\r|\n/);
      if (end === -1) break;
      // A lone `\r` at the end of the buffer may be the first half of `\r\n`.
      const crlf = this.buffer.startsWith('\r\n', end);
      if (this.buffer[end] === '\r' && !crlf && end === this.buffer.length - 1) {
        this.skipLeadingLf = true;
      }
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + (crlf ? 2 : 1));
      const message = this.line(line);
      if (message) messages.push(message);
    }
    return messages;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined; // a comment, e.g. a keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const event = this.event || 'message';
    const data = this.data;
    this.event = '';
    this.data = [];
    // A block without data is not dispatched (the spec), but its id still counts.
    if (data.length === 0) return undefined;
    return { event, data: data.join('\n'), ...(this.id !== undefined && { id: this.id }) };
  }
}
