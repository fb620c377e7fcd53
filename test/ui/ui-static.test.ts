/** The UI plugin: files as they are, the app for deep links, never a file outside the build. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveInside, uiStatic } from '../../src/http/ui-static.ts';

let dir: string;
let app: FastifyInstance;

async function serve(root: string): Promise<FastifyInstance> {
  const server = Fastify();
  // As in sched: unknown API paths answer a JSON 404.
  server.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ kind: 'Error', error: `no such resource: ${request.url}` });
  });
  server.get('/api/runs', () => ({ kind: 'RunList', items: [] }));
  await server.register(uiStatic, { root });
  return server;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chainr-ui-static-'));
  const root = join(dir, 'dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>chainr</title>');
  writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log(1)');
  writeFileSync(join(root, 'favicon.svg'), '<svg/>');
  writeFileSync(join(root, '.secret'), 'DOTFILE-CONTENT');
  writeFileSync(join(dir, 'outside.txt'), 'OUTSIDE-CONTENT');
  app = await serve(root);
});

afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('uiStatic', () => {
  it('serves the app at / and at every deep link, never cached stale', async () => {
    for (const url of ['/', '/runs/01a2/jobs/load?view=timeline', '/submit', '/schedules/']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<title>chainr</title>');
    }
    expect((await app.inject({ method: 'HEAD', url: '/runs/x' })).statusCode).toBe(200);
  });

  it('serves built files, hashed assets cached for good', async () => {
    const asset = await app.inject({ url: '/assets/app-1a2b.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.body).toBe('console.log(1)');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['x-content-type-options']).toBe('nosniff');
    const icon = await app.inject({ url: '/favicon.svg' });
    expect(icon.headers['cache-control']).toBe('public, max-age=3600');
  });

  it('leaves /api to the API: its routes, and its JSON 404 for unknown paths', async () => {
    expect((await app.inject({ url: '/api/runs' })).json()).toEqual({ kind: 'RunList', items: [] });
    const missing = await app.inject({ url: '/api/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ kind: 'Error' });
    expect((await app.inject({ url: '/api' })).statusCode).toBe(404);
  });

  it('answers 404 for a missing file rather than the app', async () => {
    expect((await app.inject({ url: '/assets/missing-9z.js' })).statusCode).toBe(404);
  });

  it('never serves a file outside the build, nor a dotfile', async () => {
    for (const url of [
      '/../outside.txt',
      '/..%2foutside.txt',
      '/%2e%2e/outside.txt',
      '/assets/..%2f..%2foutside.txt',
      '/.secret',
      '/assets/%2e%2e%5c..%5coutside.txt',
      '/%00index.html',
    ]) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toMatch(/DOTFILE-CONTENT|OUTSIDE-CONTENT/);
    }
    expect(resolveInside('/srv/ui', '/../x')).toBeUndefined();
    expect(resolveInside('/srv/ui', '/a/%2e%2e/%2e%2e/x')).toBeUndefined();
    expect(resolveInside('/srv/ui', '/.env')).toBeUndefined();
    expect(resolveInside('/srv/ui', '/%E0%A4%A')).toBeUndefined();
    expect(resolveInside('/srv/ui', '/assets/a.js')).toBe(join('assets', 'a.js'));
  });

  it('says how to build the UI when it is not built', async () => {
    const bare = await serve(join(dir, 'not-built'));
    const res = await bare.inject({ url: '/runs/x' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:ui');
    expect((await bare.inject({ url: '/api/runs' })).statusCode).toBe(200);
    await bare.close();
  });
});
