/**
 * Liveness and metrics of separate processes on one Redis: sched on its port, work, notif and
 * recycle on their ops servers; heartbeats, probes through a Redis outage, metrics of a pipeline.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getRun, submit, waitForEnd } from './fixtures/api.ts';
import { spawnChainr, startHttpService, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';
import { metricValue, opsUrl, webhookReceiver } from './ops-fixtures.ts';

const HEARTBEAT_MS = 300;
const TTL_MS = HEARTBEAT_MS * 3;

let redis: TestRedis;
let configDir: string;
let sched: ChainrProcess & { url: string };
const ops: Record<'work' | 'notif' | 'recycle', { proc: ChainrProcess; url: string }> = {} as never;

interface InstanceList {
  kind: string;
  counts: Record<string, number>;
  items: { service: string; pid: number; executors?: string[]; concurrency?: number }[];
}

const instances = async (): Promise<InstanceList> =>
  (await (await fetch(`${sched.url}/api/instances`)).json()) as InstanceList;

beforeAll(async () => {
  redis = await startRedis();
  const env = {
    REDIS_URL: redis.url,
    CHAINR_PREFIX: 'ops:',
    CHAINR_HEARTBEAT_INTERVAL: `${HEARTBEAT_MS}ms`,
    CHAINR_CONCURRENCY: '3',
  };
  sched = await startHttpService('sched', env);
  // The pipeline's webhook below is on loopback, which notif refuses unless allowed.
  configDir = mkdtempSync(join(tmpdir(), 'chainr-ops-'));
  const notifyConfig = join(configDir, 'notify.yaml');
  writeFileSync(notifyConfig, 'inline: { allow: [127.0.0.1] }\n');
  await Promise.all(
    (['work', 'notif', 'recycle'] as const).map(async (service) => {
      // info: the ops server logs the address it listens on (CHAINR_OPS_PORT=0: a free port).
      const proc = spawnChainr([service], {
        ...env,
        LOG_LEVEL: 'info',
        ...(service === 'notif' && { CHAINR_NOTIFY_CONFIG: notifyConfig }),
      });
      const url = await until(
        () => opsUrl(proc.output()),
        () => `the ${service} ops server address in:\n${proc.output()}`,
        60_000,
      );
      ops[service] = { proc, url };
    }),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([sched, ...Object.values(ops).map((o) => o.proc)].map((p) => p?.kill()));
  await redis?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

describe('instances', () => {
  it('every service process registers itself; work with its executors and concurrency', async () => {
    const list = await until(async () => {
      const l = await instances();
      return ['sched', 'work', 'notif', 'recycle'].every((s) => l.counts[s] === 1) && l;
    }, 'one instance of each service');
    expect(list.kind).toBe('InstanceList');
    expect(list.items.map((i) => i.service)).toEqual(['sched', 'work', 'notif', 'recycle']);
    expect(list.items[1]).toMatchObject({
      pid: ops.work.proc.child.pid,
      concurrency: 3,
      executors: expect.arrayContaining(['local', 'noop']) as unknown,
    });
    const health = await fetch(`${sched.url}/api/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({
      kind: 'Health',
      status: 'ok',
      instances: { sched: 1, work: 1, notif: 1, recycle: 1 },
    });
  });
});

describe('ops servers', () => {
  it('work, notif and recycle answer /healthz, /readyz and /metrics on their own port', async () => {
    for (const [service, { url }] of Object.entries(ops)) {
      const alive = await fetch(`${url}/healthz`);
      expect(alive.status, service).toBe(200);
      expect(await alive.json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status, service).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { redis: true, [service]: true },
      });
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toContain('process_cpu_user_seconds_total');
    }
    const recycle = await (await fetch(`${ops.recycle.url}/metrics`)).text();
    expect(recycle).toContain('# TYPE chainr_recycle_repairs_total counter');
  });
});

describe('metrics of a pipeline', () => {
  it('count its jobs by executor and status, the hops, its run, its notification', async () => {
    const hook = await webhookReceiver();
    const run = await submit(sched.url, {
      kind: 'Pipeline',
      jobs: {
        a: { image: 'alpine', run: 'true' },
        b: { image: 'alpine', run: 'true', dependsOn: [{ job: 'a' }] },
        c: { image: 'alpine', run: 'exit 3', dependsOn: [{ job: 'a' }] },
        d: { image: 'alpine', run: 'true', dependsOn: [{ job: 'c' }] },
      },
      notifications: [{ on: ['end'], to: { webhook: { url: hook.url } } }],
    });
    expect((await waitForEnd(sched.url, run.metadata.uid)).status).toBe('FAILED');
    const work = await (await fetch(`${ops.work.url}/metrics`)).text();
    const job = (status: string) =>
      metricValue(work, 'chainr_job_duration_seconds_count', { executor: 'local', status });
    expect(job('SUCCESSFUL')).toBe(2);
    expect(job('FAILED')).toBe(1);
    // Every attempt started once: a root from its submission, b and c from a's result.
    expect(metricValue(work, 'chainr_job_hop_seconds_count', { executor: 'local' })).toBe(3);
    const hopSum = metricValue(work, 'chainr_job_hop_seconds_sum', { executor: 'local' }) ?? -1;
    expect(hopSum).toBeGreaterThanOrEqual(0);
    expect(hopSum).toBeLessThan(10);

    const api = await (await fetch(`${sched.url}/metrics`)).text();
    expect(metricValue(api, 'chainr_runs', { status: 'FAILED' })).toBe(1);
    expect(metricValue(api, 'chainr_runs', { status: 'RUNNING' })).toBe(0);
    const ended = (status: string) => metricValue(api, 'chainr_jobs_ended_total', { status });
    expect([ended('SUCCESSFUL'), ended('FAILED'), ended('SKIPPED')]).toEqual([2, 1, 1]);
    for (const state of ['waiting', 'active', 'delayed'])
      expect(metricValue(api, 'chainr_queue_jobs', { executor: 'local', state })).toBe(0);
    expect(metricValue(api, 'chainr_instances', { service: 'work' })).toBe(1);

    await until(() => hook.received() === 1, 'the webhook delivery');
    const delivered = { medium: 'webhook', outcome: 'delivered' };
    const notif = await until(async () => {
      const text = await (await fetch(`${ops.notif.url}/metrics`)).text();
      return metricValue(text, 'chainr_notification_deliveries_total', delivered) === 1 && text;
    }, 'one delivery counted');
    expect(
      metricValue(notif, 'chainr_notification_deliveries_total', { outcome: 'failed' }),
    ).toBeUndefined();
    await hook.close();
    expect((await getRun(sched.url, run.metadata.uid)).jobs.map((j) => j.status)).toEqual([
      'SUCCESSFUL',
      'SUCCESSFUL',
      'FAILED',
      'SKIPPED',
    ]);
  });

  it('queue depth counts attempts running and waiting for a worker slot', async () => {
    // Four parallel jobs on a worker that runs three at once: one waits.
    const sleeper = { image: 'alpine', run: 'sleep 2' };
    const run = await submit(sched.url, {
      kind: 'Pipeline',
      jobs: { a: sleeper, b: sleeper, c: sleeper, d: sleeper },
    });
    const depth = (text: string, state: string) =>
      metricValue(text, 'chainr_queue_jobs', { executor: 'local', state });
    // The queue's counts and the run's status come from two reads: a scrape can fall between a
    // job's hand-over to a worker slot and its start, which makes the run RUNNING.
    const api = await until(async () => {
      const text = await (await fetch(`${sched.url}/metrics`)).text();
      const running = metricValue(text, 'chainr_runs', { status: 'RUNNING' }) === 1;
      return depth(text, 'active') === 3 && running && text;
    }, 'three active attempts of a RUNNING run');
    expect(depth(api, 'waiting')).toBe(1);
    expect((await waitForEnd(sched.url, run.metadata.uid)).status).toBe('SUCCESSFUL');
  });
});

describe('a Redis outage', () => {
  it('makes /readyz answer 503 (and /api/health), and 200 again once Redis is back', async () => {
    const probes = [`${sched.url}/readyz`, `${ops.work.url}/readyz`, `${ops.notif.url}/readyz`];
    await redis.kill();
    for (const probe of probes) {
      const res = await until(async () => {
        const r = await fetch(probe);
        return r.status === 503 && r;
      }, `503 from ${probe}`);
      expect(await res.json()).toMatchObject({ kind: 'Error', checks: { redis: false } });
    }
    const health = await fetch(`${sched.url}/api/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      kind: 'Error',
      error: expect.stringMatching(/Redis/) as unknown,
    });
    // Liveness is the process's, not Redis's: Kubernetes must not restart everything.
    expect((await fetch(`${ops.work.url}/healthz`)).status).toBe(200);

    await redis.start();
    for (const probe of probes)
      await until(async () => (await fetch(probe)).status === 200, `200 from ${probe}`, 20_000);
    // The store came back empty (no persistence here): the heartbeats register everyone again.
    await until(async () => (await instances()).counts.work === 1, 'work again', 5000);
  }, 60_000);
});

describe('leaving', () => {
  it('a clean shutdown (SIGTERM) deregisters at once', async () => {
    expect(await ops.notif.proc.kill('SIGTERM')).toBe(0);
    expect((await instances()).counts.notif).toBeUndefined();
  });

  it('a killed instance (SIGKILL) disappears when its heartbeat TTL runs out', async () => {
    await ops.recycle.proc.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await instances()).counts.recycle).toBe(1);
    await until(async () => (await instances()).counts.recycle === undefined, 'recycle gone');
    expect(Date.now() - killedAt).toBeLessThan(TTL_MS + 2000);
  });
});
