/**
 * /api/* to the sched upstreams, streamed both ways without buffering (SSE and followed logs pass
 * through as they are written). A request whose upstream refuses the connection — or, for reads,
 * fails before answering — is tried on the next one.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { request as httpRequest } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Upstream, UpstreamPool } from './upstreams.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

function forwardHeaders(
  headers: IncomingHttpHeaders,
  req: IncomingMessage,
  clientIp: string,
  bodyLength: number | undefined,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  const prior = headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${String(prior)}, ${clientIp}` : clientIp;
  out['x-forwarded-host'] = headers.host ?? '';
  out['x-forwarded-proto'] = 'encrypted' in req.socket ? 'https' : 'http';
  if (bodyLength !== undefined) out['content-length'] = String(bodyLength);
  return out;
}

function responseHeaders(res: IncomingMessage): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  if (res.headers['content-length'] !== undefined)
    out['content-length'] = res.headers['content-length'];
  return out;
}

type Attempt = { kind: 'answered' } | { kind: 'retry'; reason: string } | { kind: 'failed' };

/** One try on one upstream. `retry` when nothing reached the client and it is safe to try again. */
function attempt(
  upstream: Upstream,
  request: FastifyRequest,
  res: ServerResponse,
  body: Buffer | undefined,
): Promise<Attempt> {
  const idempotent = request.method === 'GET' || request.method === 'HEAD';
  upstream.requests++;
  return new Promise((done) => {
    let connected = false;
    const upstreamReq = httpRequest(
      {
        protocol: upstream.url.protocol,
        hostname: upstream.url.hostname,
        port: upstream.url.port,
        method: request.method,
        path: request.raw.url,
        headers: forwardHeaders(request.headers, request.raw, request.ip, body?.length),
        agent: upstream.agent,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, responseHeaders(upstreamRes));
        res.flushHeaders();
        upstreamRes.pipe(res);
        upstreamRes.on('error', () => res.destroy());
        upstreamRes.on('end', () => done({ kind: 'answered' }));
        res.on('close', () => {
          upstreamRes.destroy();
          done({ kind: 'answered' });
        });
      },
    );
    upstreamReq.on('socket', (socket) => {
      // A kept-alive socket is connected already; a new one once it connects.
      if (!socket.connecting) connected = true;
      else socket.once('connect', () => (connected = true));
    });
    upstreamReq.on('error', (err: NodeJS.ErrnoException) => {
      if (res.headersSent) {
        res.destroy();
        done({ kind: 'failed' });
      } else if (!connected || idempotent || err.code === 'ECONNREFUSED') {
        done({ kind: 'retry', reason: err.message });
      } else done({ kind: 'failed' });
    });
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    upstreamReq.end(body);
  });
}

function badGateway(res: ServerResponse, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ kind: 'Error', error: message }));
}

export function proxyHandler(pool: UpstreamPool) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    reply.hijack();
    const res = reply.raw;
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    for (const upstream of pool.candidates()) {
      const result = await attempt(upstream, request, res, body);
      if (result.kind === 'answered') return;
      if (result.kind === 'failed') {
        pool.markDown(upstream, 'connection failed during a request');
        return badGateway(
          res,
          'the API server failed while answering; the request may or may not have been applied',
        );
      }
      pool.markDown(upstream, result.reason);
      if (res.destroyed) return;
    }
    badGateway(res, 'no API server (sched) is reachable; try again shortly');
  };
}
