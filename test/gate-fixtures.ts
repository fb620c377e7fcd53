/** Helpers of the gate tests: token files, raw HTTP (no URL normalization), services with auth on. */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/process/private-redis.ts';
import { afterAll, beforeAll } from 'vitest';
import { spawnChainr, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

export const TOKENS = {
  viewer: 'viewer-secret-0a1b2c3d4e5f',
  operator: 'operator-secret-6a7b8c9d0e1f',
  admin: 'admin-secret-2f3e4d5c6b7a',
} as const;

/** A tokens file as an operator would write it: names, roles and SHA-256 digests only. */
export function writeTokensFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chainr-gate-'));
  const file = join(dir, 'tokens.yaml');
  const lines = Object.entries(TOKENS).map(
    ([role, token]) =>
      `  - { name: ${role}-1, role: ${role}, sha256: ${createHash('sha256').update(token).digest('hex')} }`,
  );
  writeFileSync(file, `tokens:\n${lines.join('\n')}\n`);
  return file;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** GET with the path sent exactly as written (fetch would resolve `..` and `%2e%2e`). */
export function rawGet(
  base: string,
  path: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(base);
  return new Promise((done, fail) => {
    const req = request({ hostname: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', fail);
    req.end();
  });
}

/** Generous: the shared test machines start a process in seconds, sometimes in a minute. */
export const START_TIMEOUT_MS = 120_000;

/**
 * Starts `chainr gate` (ready when /healthz answers) or `chainr sched` (when /api does) on a free
 * port.
 */
export async function startService(
  service: 'gate' | 'sched',
  env: Record<string, string>,
): Promise<ChainrProcess & { url: string }> {
  const port = await freePort();
  const proc = spawnChainr([service], { PORT: String(port), ...env });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + START_TIMEOUT_MS;
  const probe = service === 'gate' ? '/healthz' : '/api';
  for (;;) {
    if (proc.child.exitCode !== null)
      throw new Error(`chainr ${service} exited:\n${proc.output()}`);
    try {
      if ((await fetch(`${url}${probe}`)).ok) return { ...proc, url };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(`chainr ${service} did not start:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const startGate = (env: Record<string, string>) => startService('gate', env);

/**
 * For one test file: a redis-server and a `chainr sched` with the test tokens (and `env`), started
 * before its tests and stopped after them. The returned function gives the running sched.
 */
export function schedWithTokens(
  env: Record<string, string>,
): () => ChainrProcess & { url: string } {
  let redis: TestRedis | undefined;
  let sched: (ChainrProcess & { url: string }) | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    sched = await startService('sched', {
      REDIS_URL: redis.url,
      CHAINR_TOKENS_FILE: writeTokensFile(),
      ...env,
    });
  }, 2 * START_TIMEOUT_MS);
  afterAll(async () => {
    await sched?.kill();
    await redis?.stop();
  });
  return () => {
    if (!sched) throw new Error('sched has not started');
    return sched;
  };
}
