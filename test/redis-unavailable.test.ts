/**
 * A real sched process whose Redis dies or freezes: what each route answers meanwhile, what
 * /metrics shows, and that both come back once Redis does.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { submit } from './fixtures/api.ts';
import { startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';

let redis: TestRedis;
let sched: ChainrProcess & { url: string };

const pipeline = { kind: 'Pipeline', jobs: { a: { image: 'alpine', run: 'true' } } };

beforeAll(async () => {
  redis = await startRedis({ appendonly: true });
  // No worker: the runs stay PENDING, so the counts are known.
  sched = await startHttpService('sched', {
    REDIS_URL: redis.url,
    CHAINR_KUBERNETES: '0',
    CHAINR_CONTAINER: '0',
  });
});
afterAll(async () => {
  redis.signal('SIGCONT');
  await sched?.kill('SIGKILL');
  await redis?.stop();
});

const get = (path: string) => fetch(`${sched.url}${path}`, { signal: AbortSignal.timeout(20_000) });

async function metrics(): Promise<string> {
  const res = await get('/metrics');
  expect(res.status).toBe(200);
  return res.text();
}

it('answers 503 for the counts while Redis is down, not zeros, and /metrics says chainr_redis_up 0', async () => {
  await submit(sched.url, pipeline);
  const before = await get('/api/runs/counts');
  expect(((await before.json()) as { counts: Record<string, number> }).counts.PENDING).toBe(1);
  expect(await metrics()).toMatch(/^chainr_redis_up 1$/m);
  expect(await metrics()).toMatch(/^chainr_runs\{status="PENDING"\} 1$/m);

  await redis.kill('SIGKILL');
  const counts = await get('/api/runs/counts');
  expect(counts.status).toBe(503);
  expect(await counts.json()).toEqual({
    kind: 'Error',
    error: 'the store (Redis) is unavailable; try again shortly',
  });
  const down = await metrics();
  expect(down).toMatch(/^chainr_redis_up 0$/m);
  // The store's families are left out rather than shown with values nobody read; the process's
  // own are still there.
  expect(down).not.toMatch(/^chainr_runs\{/m);
  expect(down).not.toMatch(/^chainr_instances\{/m);
  expect(down).toMatch(/^process_cpu_seconds_total /m);

  await redis.start();
  const back = await until(async () => {
    const res = await get('/api/runs/counts');
    return res.status === 200 && ((await res.json()) as { counts: Record<string, number> });
  }, 'the counts once Redis is back');
  expect(back.counts.PENDING).toBe(1);
  await until(async () => /^chainr_redis_up 1$/m.test(await metrics()), 'chainr_redis_up 1');
  expect(await metrics()).toMatch(/^chainr_runs\{status="PENDING"\} 1$/m);
}, 60_000);

it('answers 503 within seconds on every route while Redis is frozen (SIGSTOP), and recovers on SIGCONT', async () => {
  const { uid } = (await submit(sched.url, pipeline)).metadata;
  redis.signal('SIGSTOP');
  try {
    const requests: [string, RequestInit?][] = [
      ['/api/runs'],
      ['/api/runs/counts'],
      [`/api/runs/${uid}`],
      [
        '/api/runs',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(pipeline),
        },
      ],
    ];
    for (const [path, init] of requests) {
      const started = performance.now();
      // Without command timeouts these wait as long as Redis is frozen: the abort fails the test.
      const res = await fetch(`${sched.url}${path}`, {
        ...init,
        signal: AbortSignal.timeout(15_000),
      });
      console.log(
        `${init?.method ?? 'GET'} ${path} with Redis frozen: ${res.status} after ${Math.round(performance.now() - started)} ms`,
      );
      expect({ path, status: res.status, body: await res.json() }).toEqual({
        path,
        status: 503,
        body: { kind: 'Error', error: 'the store (Redis) is unavailable; try again shortly' },
      });
    }
    expect((await get('/readyz')).status).toBe(503);
  } finally {
    redis.signal('SIGCONT');
  }
  const run = await until(async () => {
    const res = await get(`/api/runs/${uid}`);
    return res.status === 200 && ((await res.json()) as { status: string });
  }, 'the run once Redis runs again');
  expect(run.status).toBe('PENDING');
  expect((await submit(sched.url, pipeline)).status).toBe('PENDING');
  expect((await get('/api/runs/counts')).status).toBe(200);
}, 90_000);
