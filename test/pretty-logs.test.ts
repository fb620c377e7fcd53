/**
 * `chainr up` logs for whoever reads them: readable lines on a terminal (run here under a pseudo-
 * terminal by `script`), JSON lines to a pipe, for log collectors.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../src/process/private-redis.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

const BIN = fileURLToPath(new URL('../bin/chainr.js', import.meta.url));
let redis: TestRedis;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

/** `chainr up`'s output until a line of the worker's start is in it; then it is stopped. */
async function upOutput(command: string, args: string[]): Promise<string> {
  const child = spawn(command, args, {
    env: {
      ...process.env,
      PORT: String(await freePort()),
      CHAINR_OPS_PORT: '0',
      REDIS_URL: redis.url,
      LOG_LEVEL: 'info',
      // The format is the subject, not the executors: no probe of a container engine to wait for.
      CHAINR_EXECUTORS: 'local',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group: `script` and the chainr under it stop together
  });
  let output = '';
  const exited = new Promise((done) => child.once('exit', done));
  const seen = new Promise<void>((done, fail) => {
    // As long as other tests give a started process under CI's load (a whole `chainr up` here).
    const timer = setTimeout(() => fail(new Error(`no worker start line in:\n${output}`)), 90_000);
    const read = (d: Buffer) => {
      output += d.toString();
      if (/executors/.test(output)) {
        clearTimeout(timer);
        done();
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
  });
  try {
    await seen;
  } finally {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await exited;
  }
  return output;
}

it('on a terminal, prints readable, coloured lines', async () => {
  const output = await upOutput('script', ['-qec', `${process.execPath} ${BIN} up`, '/dev/null']);
  const lines = output.split(/\r?\n/);
  expect(lines.filter((l) => /^\s*\{"level"/.test(l))).toEqual([]);
  const line = lines.find((l) => /INFO.*\(work/.test(l)) ?? output;
  expect(line).toContain('\x1b['); // coloured
}, 120_000);

it('to a pipe, prints JSON lines', async () => {
  const output = await upOutput(process.execPath, [BIN, 'up']);
  const line = output.split('\n').find((l) => /executors/.test(l)) ?? '';
  expect(JSON.parse(line)).toMatchObject({ level: 30, service: 'work' });
}, 120_000);
