/** The request context the simulator's handlers share, and how they answer. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from './faults.ts';
import { statuses, type Status } from './status.ts';

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  info: RequestInfo;
  /** Set by an injected fault: apply the request, then cut the connection instead of answering. */
  dropResponse: boolean;
  /** The status code answered, for the request log. */
  answered?: number;
}

export function sendJson(
  ctx: Ctx,
  code: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  ctx.answered = code;
  if (ctx.dropResponse) {
    ctx.req.socket.destroy();
    return;
  }
  const text = JSON.stringify(body);
  ctx.res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'audit-id': crypto.randomUUID(),
    ...headers,
  });
  ctx.res.end(text);
}

export function sendStatus(ctx: Ctx, status: Status): void {
  sendJson(ctx, status.code, status);
}

export async function readBody(req: IncomingMessage, limit = 3 * 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new Error('request entity too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const isTrue = (value: string | null) => value === 'true' || value === '1';

/**
 * The request's object, when it is JSON of that `apiVersion` and `kind`; undefined once a 400
 * has answered it.
 */
export async function readObject<T extends { apiVersion?: string; kind?: string }>(
  ctx: Ctx,
  apiVersion: string,
  kind: string,
): Promise<T | undefined> {
  let body: T;
  try {
    body = JSON.parse(await readBody(ctx.req)) as T;
  } catch (err) {
    sendStatus(ctx, statuses.badRequest(`json parse error: ${String(err)}`));
    return undefined;
  }
  if (body.apiVersion === apiVersion && body.kind === kind) return body;
  sendStatus(ctx, statuses.badRequest(`the object is not a ${apiVersion} ${kind}`));
  return undefined;
}
