/**
 * Serves the monitoring UI (the build in ui/dist) next to the API: files as they are, and
 * index.html for every other path outside /api, so that a deep link (/runs/<uid>/jobs/<job>)
 * survives a reload. Nothing outside the build directory is ever served.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DEFAULT_UI_ROOT = fileURLToPath(new URL('../../ui/dist/', import.meta.url));

export interface UiStaticOptions {
  /** The built UI; defaults to ui/dist in this checkout. */
  root?: string;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>chainr</title></head>
<body style="font:14px system-ui;margin:3em"><h1>The chainr UI is not built</h1>
<p>Build it with <code>npm run build:ui</code> (<code>npm start</code> does it for you), then reload.
The API is at <a href="/api">/api</a>.</p></body></html>`;

/** The file under root a URL path names, or undefined when it could name something outside. */
export function resolveInside(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const file = resolve(root, `.${decoded.startsWith('/') ? '' : '/'}${decoded}`);
  const rel = relative(root, file);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return undefined;
  if (rel.split(sep).some((part) => part.startsWith('.'))) return undefined;
  return rel;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Paths that look like a file (`/assets/x.js`) get a 404 when missing, not the app. */
const looksLikeFile = (path: string) => /\.[A-Za-z0-9]+$/.test(path.split('/').pop() ?? '');

export async function uiStatic(app: FastifyInstance, options: UiStaticOptions = {}): Promise<void> {
  const root = resolve(options.root ?? DEFAULT_UI_ROOT);
  const built = await isFile(join(root, 'index.html'));
  if (!built)
    app.log.warn({ root }, 'the UI is not built (npm run build:ui); serving a notice at /');

  await app.register(fastifyStatic, { root, serve: false, dotfiles: 'deny', etag: true });

  const sendIndex = (reply: FastifyReply) =>
    reply.header('cache-control', 'no-cache').sendFile('index.html', root, { cacheControl: false });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (path === '/api' || path.startsWith('/api/')) {
      reply.callNotFound();
      return reply;
    }
    reply.header('x-content-type-options', 'nosniff').header('referrer-policy', 'same-origin');
    if (!built) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    const rel = path === '/' ? undefined : resolveInside(root, path);
    if (rel !== undefined && (await isFile(join(root, rel)))) {
      // Vite names assets by content hash: they never change, so they are cached for good.
      const immutable = rel.startsWith(`assets${sep}`);
      return reply.sendFile(rel, root, {
        cacheControl: true,
        immutable,
        maxAge: immutable ? 365 * 24 * 3600 * 1000 : 3600 * 1000,
      });
    }
    if (looksLikeFile(path)) {
      reply.callNotFound();
      return reply;
    }
    return sendIndex(reply);
  };

  app.route({ method: 'GET', url: '/*', schema: { hide: true }, handler });
  app.route({ method: 'GET', url: '/', schema: { hide: true }, handler });
}
