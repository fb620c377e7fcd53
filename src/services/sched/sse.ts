/** Server-Sent Events over a hijacked Fastify reply. */
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface SseStream {
  send(event: string, data: unknown, id?: string): void;
  close(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

export function openSse(
  request: FastifyRequest,
  reply: FastifyReply,
  heartbeatMs = 15_000,
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
  let closed = false;
  const closers: (() => void)[] = [];
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
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
      if (closed) return;
      res.write(`${id ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
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
