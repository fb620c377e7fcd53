/**
 * Redis killed with SIGKILL in the middle of a load and started again on the same port and data
 * (append-only, fsync at every write): while it is down the API answers 503 with an Error object
 * and no service process exits; once it is back, every run accepted with 202 ends as expected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cases } from '../src/chaos/scenario.ts';
import { statuses, waitForEnd } from './fixtures/api.ts';
import { spawnChainr, startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';

let redis: TestRedis;
let dir: string;
let sched: ChainrProcess & { url: string };
const services: ChainrProcess[] = [];

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
  dir = mkdtempSync(join(tmpdir(), 'chainr-outage-'));
  const env = {
    REDIS_URL: redis.url,
    CHAINR_RECYCLE_INTERVAL: '1s',
    CHAINR_RECYCLE_GRACE: '5s',
    // A fetch whose answer the crash lost leaves its job active under a lock nobody renews;
    // BullMQ's stalled-job check gives it back within two lock durations (30 s each by default).
    CHAINR_LOCK_DURATION: '3s',
    CHAINR_KUBERNETES: '0',
    CHAINR_CONTAINER: '0',
  };
  services.push(...['work', 'notif', 'recycle'].map((s) => spawnChainr([s], env)));
  sched = await startHttpService('sched', env);
  services.push(sched);
});
afterAll(async () => {
  await Promise.all(services.map((s) => s.kill('SIGKILL')));
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('answers 503 while Redis is down, keeps every service running, and ends every accepted run', async () => {
  const shapes = cases(join(dir, 'ledger'));
  const accepted: { uid: string; expected: Record<string, string> }[] = [];
  const answers: number[] = [];
  let loading = true;
  const load = (async () => {
    for (let i = 0; loading; i += 1) {
      const shape = shapes[i % shapes.length];
      const res = await fetch(`${sched.url}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(shape?.pipeline),
        signal: AbortSignal.timeout(10_000),
      });
      answers.push(res.status);
      const body = (await res.json()) as { metadata: { uid: string } };
      if (res.status === 202)
        accepted.push({ uid: body.metadata.uid, expected: shape?.expected ?? {} });
      await wait(50);
    }
  })();

  await wait(2000);
  await redis.kill('SIGKILL');
  const down = Date.now();
  await wait(1000);
  const started = Date.now();
  const res = await fetch(`${sched.url}/api/runs`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(503);
  expect(Date.now() - started).toBeLessThan(5000);
  const body = (await res.json()) as { kind: string; error: string };
  expect(body.kind).toBe('Error');
  expect(body.error).toMatch(/Redis\) is unavailable/);
  // Event streams too answer 503 (after waiting up to 5 s for Redis), rather than hang.
  for (const path of ['/api/events', `/api/runs/${accepted[0]?.uid ?? 'none'}/events`]) {
    const stream = await fetch(`${sched.url}${path}`, { signal: AbortSignal.timeout(15_000) });
    expect({ path, status: stream.status }).toEqual({ path, status: 503 });
    expect(((await stream.json()) as { kind: string }).kind).toBe('Error');
  }
  await wait(1000);
  expect(services.map((s) => s.child.exitCode)).toEqual(services.map(() => null));

  await redis.start();
  console.log(`Redis down for ${Date.now() - down} ms`);
  await wait(2000);
  loading = false;
  await load;
  expect(answers).toContain(503);
  expect(answers.filter((s) => s !== 202 && s !== 503)).toEqual([]);
  expect(answers.lastIndexOf(202)).toBeGreaterThan(answers.indexOf(503)); // accepted again after
  for (const run of accepted) {
    const ended = await waitForEnd(sched.url, run.uid, 30_000);
    expect({ uid: run.uid, statuses: statuses(ended) }).toEqual({
      uid: run.uid,
      statuses: run.expected,
    });
  }
  console.log(`${accepted.length} runs accepted, answers: ${JSON.stringify(count(answers))}`);
  expect(services.map((s) => s.child.exitCode)).toEqual(services.map(() => null));
}, 60_000);

it('stops every service on SIGTERM while Redis is down, within the shutdown grace and a margin', async () => {
  const own = await startRedis();
  const env = { REDIS_URL: own.url, CHAINR_SHUTDOWN_GRACE: '1s', CHAINR_KUBERNETES: '0' };
  const stopping = ['work', 'notif', 'recycle'].map((s) => spawnChainr([s], env));
  const sched = await startHttpService('sched', env);
  stopping.push(sched);
  try {
    // Every service started (registered), so that each has its SIGTERM handler.
    await until(
      async () => {
        const res = await fetch(`${sched.url}/api/instances`);
        const { counts } = (await res.json()) as { counts: Record<string, number> };
        return counts.work === 1 && counts.notif === 1 && counts.recycle === 1;
      },
      'work, notif and recycle to register',
      60_000,
    );
    await own.kill('SIGKILL');
    await wait(500);
    const signaled = Date.now();
    const codes = await Promise.all(stopping.map((s) => s.kill('SIGTERM')));
    // 1 s of grace + the 5 s margin, and time for a loaded machine to deliver the exits.
    expect(Date.now() - signaled).toBeLessThan(12_000);
    expect(codes.filter((c) => c !== 0 && c !== 1)).toEqual([]); // exited on their own
  } finally {
    await Promise.all(stopping.map((s) => s.kill('SIGKILL')));
    await own.stop();
  }
}, 60_000);

function count(values: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}
