/**
 * `chainr gate` in front of two `chainr sched` processes and a worker: requests spread over both,
 * the gate survives one being killed, SSE passes through as it happens, static traversal refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun, waitForEnd, type RunBody } from './fixtures/api.ts';
import { spawnChainr, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { START_TIMEOUT_MS, rawGet, startGate, startService } from './gate-fixtures.ts';

let redis: TestRedis;
let schedA: ChainrProcess & { url: string };
let schedB: ChainrProcess & { url: string };
let work: ChainrProcess;
let gate: ChainrProcess & { url: string };

beforeAll(async () => {
  redis = await startRedis();
  const env = { REDIS_URL: redis.url, CHAINR_PREFIX: 'gate-proxy:' };
  [schedA, schedB] = await Promise.all([startService('sched', env), startService('sched', env)]);
  work = spawnChainr(['work'], env);
  gate = await startGate({
    CHAINR_UPSTREAMS: `${schedA.url},${schedB.url}`,
    CHAINR_HEALTH_INTERVAL_MS: '200',
  });
}, 2 * START_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([gate?.kill(), schedA?.kill(), schedB?.kill(), work?.kill()]);
  await redis?.stop();
});

interface Health {
  upstreams: { healthy: boolean; requests: number }[];
}
const health = async () => (await (await fetch(`${gate.url}/healthz`)).json()) as Health;

async function submit(pipeline: unknown): Promise<RunBody> {
  const res = await fetch(`${gate.url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(pipeline),
  });
  expect(res.status, await res.clone().text()).toBe(202);
  return (await res.json()) as RunBody;
}

describe('chainr gate', () => {
  it('proxies /api and spreads requests over both sched instances', async () => {
    const before = await health();
    for (let i = 0; i < 10; i++) expect((await fetch(`${gate.url}/api/runs`)).status).toBe(200);
    const after = await health();
    const spread = after.upstreams.map((u, i) => u.requests - (before.upstreams[i]?.requests ?? 0));
    expect(spread).toHaveLength(2);
    for (const n of spread) expect(n).toBeGreaterThanOrEqual(3);
    const run = await submit({ kind: 'Pipeline', jobs: { a: { image: 'x', run: 'exit 0' } } });
    expect((await waitForEnd(gate.url, run.metadata.uid)).status).toBe('SUCCESSFUL');
  });

  it('streams a run’s events through as they happen (SSE)', async () => {
    const run = await submit({
      kind: 'Pipeline',
      jobs: {
        a: { image: 'x', run: 'sleep 1' },
        b: { image: 'x', run: 'sleep 1', dependsOn: [{ job: 'a' }] },
      },
    });
    const res = await fetch(`${gate.url}/api/runs/${run.metadata.uid}/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const reader = res.body!.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const decoder = new TextDecoder();
    const seen: { event: string; at: number }[] = [];
    let text = '';
    while (!seen.some((e) => e.event === 'end')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const blocks = text.split('\n\n');
      text = blocks.pop() ?? '';
      for (const block of blocks) {
        const event = /^event: (.+)$/m.exec(block)?.[1];
        if (event) seen.push({ event, at: Date.now() });
      }
    }
    await reader.cancel();
    const first = seen[0];
    const end = seen.find((e) => e.event === 'end');
    expect(first?.event).toBe('run');
    expect(seen.some((e) => e.event === 'job')).toBe(true);
    // The snapshot arrived while the jobs were still running: nothing waited for the end.
    expect(end!.at - first!.at).toBeGreaterThan(1000);
  });

  it('refuses static file traversal', async () => {
    for (const path of [
      '/..%2f..%2fetc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/../../etc/passwd',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/%2e%2e%5c%2e%2e%5cetc%5cpasswd',
    ]) {
      const res = await rawGet(gate.url, path);
      expect(res.status, path).toBe(400);
      expect(res.body).not.toContain('root:');
      expect(res.body).toContain('"kind":"Error"');
    }
    const index = await rawGet(gate.url, '/');
    expect(index.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('survives one sched instance being killed', async () => {
    await schedA.kill('SIGKILL');
    for (let i = 0; i < 10; i++) expect((await fetch(`${gate.url}/api/runs`)).status).toBe(200);
    const run = await submit({ kind: 'Pipeline', jobs: { a: { image: 'x', run: 'exit 0' } } });
    expect((await waitForEnd(gate.url, run.metadata.uid)).status).toBe('SUCCESSFUL');
    expect((await getRun(gate.url, run.metadata.uid)).metadata.uid).toBe(run.metadata.uid);
    const h = await health();
    expect(h.upstreams.map((u) => u.healthy)).toEqual([false, true]);
  });
});
