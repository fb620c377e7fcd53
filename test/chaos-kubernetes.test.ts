/**
 * The Kubernetes side of chaos, against the simulator: recycle's collection of chainr's Jobs of
 * ended runs (with two replicas at once), and `chainr chaos kubernetes`, which deletes random pods
 * matching its selector and never its own.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, summary } from '../src/chaos/scenario.ts';
import { freePort } from '../src/process/private-redis.ts';
import { buildJobManifest } from '../src/executors/kubernetes/manifest.ts';
import { LABELS } from '../src/executors/kubernetes/naming.ts';
import { makeKeys } from '../src/store/keys.ts';
import { SimHarness } from './kube-sim/harness.ts';
import { spawnChainr } from './fixtures/processes.ts';
import { testRecycler } from './fixtures/recycler.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let h: SimHarness;
let server: TestRedis;
let redis: Redis;
beforeAll(async () => {
  h = await SimHarness.start();
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  await h.stop();
  await server.stop();
});

const jobNames = () => h.sim.store.list('jobs').map((j) => j.metadata.name);
const podNames = () => h.sim.store.list('pods').map((p) => p.metadata.name);

async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('recycle with the kubernetes executor', () => {
  it('deletes the Jobs of ended and vanished runs, with two replicas at once', async () => {
    const keys = makeKeys('k8s:');
    const uid = (n: number) => `33333333-0000-7000-8000-00000000000${n}`;
    // The run hashes as the Lua scripts leave them: one open, one ended; a third run is gone.
    await redis.hset(keys.run(uid(1)), 'status', 'RUNNING');
    await redis.hset(keys.run(uid(2)), 'status', 'FAILED');
    const create = async (n: number) => {
      const body = buildJobManifest(h.request('sleep 30', { uid: uid(n) }), {
        namespace: 'default',
        ttlSecondsAfterFinished: 3600,
      });
      await h.client.batch.createNamespacedJob({ namespace: 'default', body });
      return body.metadata?.name ?? '';
    };
    const [open, ended, gone] = [await create(1), await create(2), await create(3)];
    const replica = () =>
      testRecycler(redis, server.url, keys, {
        kubernetes: { connect: () => Promise.resolve(h.client) },
      });
    const [a, b] = [replica(), replica()];
    try {
      const reports = await Promise.all([a.cycle(), b.cycle()]);
      // Each replica counts what it found gone, so between them at least the one Job.
      expect(reports.map((r) => r.orphanJobs).reduce((x, y) => x + y)).toBeGreaterThanOrEqual(1);
      expect(jobNames()).toEqual(expect.arrayContaining([open, gone]));
      expect(jobNames()).not.toContain(ended);
      // A Job of a run that does not exist goes once it is old enough.
      const later = Date.now() + 11 * 60_000;
      expect((await a.cycle(later)).orphanJobs).toBe(1);
      expect(jobNames()).not.toContain(gone);
      expect(await b.cycle(later)).toMatchObject({ orphanJobs: 0 });
      expect(jobNames()).toContain(open);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('chainr chaos kubernetes', () => {
  /** A Job whose pod carries the chart's labels; the monkey's own pod among them. */
  async function podOf(name: string, instance: string): Promise<string> {
    const labels = {
      'app.kubernetes.io/part-of': 'chainr',
      'app.kubernetes.io/instance': instance,
    };
    const body: V1Job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        backoffLimit: 100,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'c', image: 'busybox', command: ['sleep', '60'] }],
          },
        },
      },
    };
    await h.client.batch.createNamespacedJob({ namespace: 'default', body });
    await until(() => podNames().some((p) => p.startsWith(`${name}-`)));
    return podNames().find((p) => p.startsWith(`${name}-`)) ?? '';
  }

  it('deletes random pods of the release, never its own pod nor those of other releases', async () => {
    const self = await podOf('monkey', 'rel');
    const victims = [await podOf('sched', 'rel'), await podOf('work', 'rel')];
    const other = await podOf('bystander', 'other');
    const monkey = spawnChainr(
      [
        'chaos',
        'kubernetes',
        '--interval',
        '200ms',
        '--selector',
        'app.kubernetes.io/part-of=chainr,app.kubernetes.io/instance=rel',
      ],
      { KUBECONFIG: h.sim.writeKubeconfig(), POD_NAME: self, POD_NAMESPACE: 'default' },
    );
    try {
      await until(() => victims.every((v) => monkey.output().includes(`deleted pod ${v}`)), 40_000);
    } finally {
      expect(await monkey.kill('SIGTERM')).toBe(0);
    }
    const deleted = [...monkey.output().matchAll(/deleted pod (\S+)/g)].map((m) => m[1]);
    expect(deleted).not.toContain(self);
    expect(deleted).not.toContain(other);
    expect(podNames()).toEqual(expect.arrayContaining([self, other]));
    expect(monkey.output()).toContain('in default');
  });
});

describe('the chaos scenario on the kubernetes executor', () => {
  it('runs each attempt in exactly one Kubernetes Job while processes are killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chainr-chaos-k8s-'));
    const ledger = join(dir, 'ledger');
    const created: string[] = [];
    const stopWatching = h.sim.store.onChange((e) => {
      const labels = e.object.metadata.labels ?? {};
      if (e.type === 'ADDED' && e.resource === 'jobs' && labels[LABELS.run])
        created.push(`${labels[LABELS.run]} ${labels[LABELS.job]} ${labels[LABELS.attempt]}`);
    });
    try {
      const report = await runScenario({
        redis: { url: server.url },
        ledger,
        schedPorts: [await freePort()],
        counts: { sched: 1, work: 2, notif: 0, recycle: 1 },
        env: {
          CHAINR_EXECUTOR: 'kubernetes',
          CHAINR_KUBERNETES: '1',
          KUBECONFIG: h.sim.writeKubeconfig(),
        },
        submitMs: 20_000,
        runs: 18,
        // The Job-per-attempt property is about workers: they alone are killed, every 2 s.
        killIntervalMs: 2000,
        victims: ['work'],
        // Each job goes through a Job, a pod and its log: slow on a loaded machine.
        drainMs: 120_000,
        print: (line) => console.log(line),
      });
      console.log(summary(report));
      expect(report.wrong).toEqual([]);
      expect(report.missing).toEqual([]);
      expect(report.accepted).toBeGreaterThan(report.submitted * 0.8);
      // A worker that takes over an attempt follows its Job: never a second Job or execution.
      expect(Object.keys(report.executionsPerAttempt)).toEqual(['1']);
      const executed = readFileSync(ledger, 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' ').slice(0, 3).join(' '));
      expect(new Set(created).size).toBe(created.length);
      expect(new Set(executed).size).toBe(executed.length);
      expect(executed.filter((attempt) => !created.includes(attempt))).toEqual([]);
    } finally {
      stopWatching();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
