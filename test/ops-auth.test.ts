/**
 * `chainr up` serves every service's probes and metrics on its one port (no ops server), and
 * with auth on the probes stay public while /metrics needs a viewer's token, there and on the
 * ops server of a separate worker and on gate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/process/private-redis.ts';
import { bearer, startGate, TOKENS, writeTokensFile } from './gate-fixtures.ts';
import { spawnChainr, startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';
import { opsUrl } from './ops-fixtures.ts';

let redis: TestRedis;
let up: ChainrProcess & { url: string };
let work: ChainrProcess;
let opsPort: number;
let tokensFile: string;
const env: Record<string, string> = {};

beforeAll(async () => {
  redis = await startRedis();
  opsPort = await freePort();
  tokensFile = writeTokensFile();
  Object.assign(env, {
    REDIS_URL: redis.url,
    CHAINR_PREFIX: 'opsauth:',
    CHAINR_TOKENS_FILE: tokensFile,
    CHAINR_HEARTBEAT_INTERVAL: '300ms',
  });
  up = await startHttpService('up', { ...env, CHAINR_OPS_PORT: String(opsPort) });
  work = spawnChainr(['work'], { ...env, LOG_LEVEL: 'info' });
}, 60_000);

afterAll(async () => {
  await Promise.all([up?.kill(), work?.kill()]);
  await redis?.stop();
});

describe('chainr up', () => {
  it('answers the probes of all four services on its port, without a token', async () => {
    expect((await fetch(`${up.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${up.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      checks: { redis: true, sched: true, work: true, notif: true, recycle: true },
    });
    await expect(fetch(`http://127.0.0.1:${opsPort}/healthz`)).rejects.toThrow();
  });

  it('registers one instance per service, all of the one process', async () => {
    const res = await fetch(`${up.url}/api/instances`, { headers: bearer(TOKENS.viewer) });
    const list = (await res.json()) as { items: { service: string; pid: number }[] };
    expect(list.items.map((i) => [i.service, i.pid])).toEqual(
      ['sched', 'work', 'notif', 'recycle'].map((service) => [service, up.child.pid]),
    );
  });

  it('asks for a token at /metrics and serves it to a viewer', async () => {
    const anonymous = await fetch(`${up.url}/metrics`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ kind: 'Error' });
    const viewer = await fetch(`${up.url}/metrics`, { headers: bearer(TOKENS.viewer) });
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await viewer.text();
    for (const name of [
      'chainr_runs',
      'chainr_job_duration_seconds',
      'chainr_recycle_repairs_total',
    ])
      expect(text).toContain(`# TYPE ${name} `);
  });
});

describe('a worker with auth on', () => {
  it('keeps its probes public and /metrics for viewers on its ops server', async () => {
    const url = await until(
      () => opsUrl(work.output()),
      () => `the ops server address in:\n${work.output()}`,
      30_000,
    );
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: bearer('not-a-token') })).status).toBe(401);
    const viewer = await fetch(`${url}/metrics`, { headers: bearer(TOKENS.viewer) });
    expect(viewer.status).toBe(200);
    expect(await viewer.text()).toContain('# TYPE chainr_job_hop_seconds histogram');
  });

  it('refuses to start on an ops port in use, naming the setting', async () => {
    const port = new URL(up.url).port;
    const taken = spawnChainr(['work'], { ...env, CHAINR_OPS_PORT: port });
    expect(await taken.exited).toBe(2);
    expect(taken.output()).toContain(`CHAINR_OPS_PORT: port ${port} is in use`);
  }, 60_000);
});

describe('gate', () => {
  it('is ready while an upstream is healthy, and serves /metrics to viewers', async () => {
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    const gates = await Promise.all([
      startGate({ CHAINR_UPSTREAMS: up.url, CHAINR_TOKENS_FILE: tokensFile }),
      startGate({
        CHAINR_UPSTREAMS: unreachable,
        CHAINR_TOKENS_FILE: tokensFile,
      }),
    ]);
    try {
      const [healthy, stranded] = gates;
      const ready = await fetch(`${healthy.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { upstreams: true } });
      const notReady = await until(async () => {
        const r = await fetch(`${stranded.url}/readyz`);
        return r.status === 503 && r;
      }, 'gate without upstreams not ready');
      expect(await notReady.json()).toMatchObject({ kind: 'Error', checks: { upstreams: false } });
      expect((await fetch(`${stranded.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${healthy.url}/metrics`)).status).toBe(401);
      const viewer = await fetch(`${healthy.url}/metrics`, { headers: bearer(TOKENS.viewer) });
      expect(await viewer.text()).toContain('process_cpu_user_seconds_total');
    } finally {
      await Promise.all(gates.map((g) => g.kill()));
    }
  }, 120_000);
});
