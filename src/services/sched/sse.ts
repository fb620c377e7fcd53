/** Server-Sent Events over a hijacked Fastify reply. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readerBuffer, type StreamKind } from './reader-buffer.ts';

export interface SseStream {
  /** Sends an event; a reader that fell behind by more than the buffer's bound is disconnected. */
  send(event: string, data: unknown, id?: string): void;
  /** Sends an event and waits until the reader has taken most of what waits for it (a backlog). */
  sendPaced(event: string, data: unknown, id?: string): Promise<void>;
  /** Disconnects the reader as one that fell behind. */
  drop(): void;
  close(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

export interface SseSettings {
  /** Bytes sent but not yet taken by the reader past which it is disconnected. */
  bufferBytes: number;
  kind: StreamKind;
  heartbeatMs?: number;
}

const format = (event: string, data: unknown, id?: string) =>
  `${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

export function openSse(
  request: FastifyRequest,
  reply: FastifyReply,
  { bufferBytes, kind, heartbeatMs = 15_000 }: SseSettings,
): SseStream {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(': chainr event stream\n\n');
  const buffer = readerBuffer(res, bufferBytes, kind, request.log);
  let closed = false;
  const closers: (() => void)[] = [];
  const heartbeat = setInterval(() => buffer.write(': keep-alive\n\n'), heartbeatMs);
  const finish = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    for (const fn of closers) fn();
  };
  request.raw.on('close', finish);
  res.on('close', finish);
  // A client that left while the route awaited (its subscription, its snapshot) closed before
  // these listeners were added.
  if (request.raw.socket.destroyed) finish();
  // HEAD asks for the headers alone (Node sends them with the end, as a HEAD has no body).
  if (request.method === 'HEAD') {
    finish();
    res.end();
  }
  return {
    send(event, data, id) {
      if (!closed) buffer.write(format(event, data, id));
    },
    async sendPaced(event, data, id) {
      if (!closed) await buffer.paced(format(event, data, id));
    },
    drop: () => buffer.drop(),
    close() {
      finish();
      res.end();
    },
    get closed() {
      return closed;
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
  };
}
