/**
 * The compiled JavaScript that the image and the npm package ship: `npm run build` (its script,
 * scripts/build.ts) into a directory laid out as the installed package is — bin/, dist/,
 * package.json, no src/, and no tsx among its modules — then `chainr` started from it runs a job
 * (the worker thread, the Lua scripts and the pipeline schema all loaded from dist/).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submit, waitForEnd } from './fixtures/api.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { layOutPackage } from '../scripts/package-layout.ts';

let pkg: string;
let redis: TestRedis;

beforeAll(async () => {
  pkg = mkdtempSync(join(tmpdir(), 'chainr-package-'));
  layOutPackage(pkg);
  redis = await startRedis();
}, 600_000);

afterAll(async () => {
  await redis?.stop();
  if (pkg) rmSync(pkg, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((done) => server.once('listening', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  return typeof address === 'object' && address ? address.port : 0;
}

describe('the compiled package', () => {
  it('has no sources to fall back on, and tells its version', () => {
    expect(readdirSync(pkg).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json']);
    const version = spawnSync(process.execPath, [join(pkg, 'bin/chainr.js'), '--version'], {
      encoding: 'utf8',
    });
    expect(version.stderr).toBe('');
    expect(version.stdout.trim()).toBe('0.1.0');
  });

  it('runs chainr up: ready, and a pipeline of local jobs runs to its end', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(pkg, 'bin/chainr.js'), 'up'], {
      env: { ...process.env, REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ready = await fetch(`${url}/readyz`).then(
          (r) => r.status,
          () => 0,
        );
        if (ready === 200) break;
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`chainr up was not ready:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const run = await submit(url, {
        kind: 'Pipeline',
        jobs: {
          a: { image: 'busybox', run: 'echo "x=1" >> "$CHAINR_OUTPUTS"' },
          b: { image: 'busybox', run: 'test "$CHAINR_A_X" = 1', dependsOn: [{ job: 'a' }] },
        },
      });
      expect((await waitForEnd(url, run.metadata.uid)).status).toBe('SUCCESSFUL');
    } finally {
      child.kill('SIGTERM');
      await new Promise((done) =>
        child.exitCode !== null ? done(null) : child.once('exit', done),
      );
    }
  });
});
