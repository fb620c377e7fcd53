/**
 * DNS rebinding and cross-site requests against `chainr up` with auth off (the `npm start`
 * default): a page whose name rebinds to 127.0.0.1 sends its own name in Host; any page can post a
 * form. Requests are sent with node:http, which, unlike fetch, sends Host and Origin as written.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

const PIPELINE = JSON.stringify({
  kind: 'Pipeline',
  jobs: { write: { image: 'busybox', run: 'echo pwned' } },
});

let redis: TestRedis | undefined;
let up: (ChainrProcess & { url: string }) | undefined;
let port = '';

beforeAll(async () => {
  redis = await startRedis();
  up = await startHttpService('up', {
    REDIS_URL: redis.url,
    CHAINR_PREFIX: 'rebinding:',
    CHAINR_ALLOWED_HOSTS: 'chainr.internal',
    CHAINR_CORS_ORIGINS: 'https://dashboard.example',
  });
  port = new URL(up.url).port;
}, 120_000);

afterAll(async () => {
  await up?.kill();
  await redis?.stop();
});

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((done, fail) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, headers, setHost: !('host' in headers) },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

const submit = (headers: Record<string, string>) =>
  send('POST', '/api/runs', { 'content-type': 'application/json', ...headers }, PIPELINE);

async function runCount(): Promise<number> {
  const res = await send('GET', '/api/runs', { host: `127.0.0.1:${port}` });
  return (JSON.parse(res.body) as { items: unknown[] }).items.length;
}

describe('with auth off', () => {
  it('refuses a rebound name in Host (403, naming it), for reads and submissions alike, and runs nothing', async () => {
    const attacker = `attacker.example:${port}`;
    const before = await runCount();
    const post = await submit({ host: attacker, origin: `http://${attacker}` });
    expect(post.status).toBe(403);
    expect(JSON.parse(post.body)).toEqual({
      kind: 'Error',
      error: expect.stringContaining(`Host "${attacker}"`) as string,
    });
    expect((await send('GET', '/api/runs', { host: attacker })).status).toBe(403);
    expect((await send('GET', '/', { host: attacker })).status).toBe(403);
    expect(await runCount()).toBe(before);
  });

  it('refuses a state change from a foreign Origin, a form post included, but serves its reads', async () => {
    const before = await runCount();
    const host = `127.0.0.1:${port}`;
    const form = await send(
      'POST',
      '/api/runs',
      { host, origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      PIPELINE,
    );
    expect(form.status).toBe(403);
    expect((JSON.parse(form.body) as { error: string }).error).toContain(
      'Origin "https://evil.example"',
    );
    expect((await submit({ host, origin: 'null' })).status).toBe(403);
    expect((await submit({ host, origin: `http://localhost:${Number(port) + 1}` })).status).toBe(
      403,
    );
    expect((await send('GET', '/api/runs', { host, origin: 'https://evil.example' })).status).toBe(
      200,
    );
    expect(await runCount()).toBe(before);
  });

  it('serves loopback names, IP addresses, the names of CHAINR_ALLOWED_HOSTS, its own pages and CORS origins', async () => {
    const accepted: Record<string, string>[] = [
      {}, // curl: Host 127.0.0.1:port, no Origin
      { host: `localhost:${port}`, origin: `http://localhost:${port}` },
      { host: `[::1]:${port}`, origin: `http://[::1]:${port}` },
      { host: `app.localhost:${port}` },
      { host: `192.0.2.7:${port}`, origin: `http://192.0.2.7:${port}` },
      { host: 'Chainr.Internal', origin: 'https://chainr.internal' },
      { host: `127.0.0.1:${port}`, origin: 'https://dashboard.example' },
    ];
    for (const headers of accepted) {
      const res = await submit(headers);
      expect(res.status, `${JSON.stringify(headers)}: ${res.body}`).toBe(202);
    }
  });
});
