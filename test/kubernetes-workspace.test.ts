/**
 * Run workspaces on the kubernetes executor, against the simulator (which models claims as the
 * API server does: default storage class, binding, the pvc-protection finalizer) with a real
 * redis-server: one PersistentVolumeClaim per run, made before its first job that needs it and
 * mounted at $CHAINR_WORKSPACE by each; a pipeline whose jobs could need a ReadWriteOnce volume
 * on two nodes at once refused at submission; the claim deleted by recycle once its run is
 * deleted, and never while a pod of the run still uses it.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { KubernetesExecutor } from '../src/executors/kubernetes/executor.ts';
import { runClaimName } from '../src/executors/kubernetes/workspace-claim.ts';
import { ExecutorRegistry } from '../src/executors/registry.ts';
import { buildSched } from '../src/services/sched/service.ts';
import { startWork, type WorkService } from '../src/services/work/service.ts';
import { connect } from '../src/store/connection.ts';
import { makeKeys, type Keys } from '../src/store/keys.ts';
import { RunStore } from '../src/store/runs.ts';
import { statuses, submit, waitForEnd, type RunBody } from './fixtures/api.ts';
import { testRecycler } from './fixtures/recycler.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';
import { FAST_TIMING, SimHarness } from './kube-sim/harness.ts';

const logger = pino({ level: 'silent' });
let redis: TestRedis;
let commands: Redis;
let h: SimHarness;
let keys: Keys;
let sched: FastifyInstance;
let url: string;
let work: WorkService;

beforeAll(async () => {
  redis = await startRedis();
  commands = redis.client();
  h = await SimHarness.start();
  keys = makeKeys(`w${randomUUID().slice(0, 8)}:`);
  const schedRedis = connect(
    { url: redis.url },
    { commandTimeoutMs: loadConfig({}).redisTimeoutMs },
  );
  sched = await buildSched({
    redis: schedRedis,
    connectBlocking: () => connect({ url: redis.url }),
    keys,
    maxEvents: 10_000,
    maxLogLines: 1000,
    maxJobsPerPipeline: 100,
    bodyLimitBytes: 1024 * 1024,
    defaultExecutor: 'kubernetes',
    workspaceAccessModes: ['ReadWriteOnce'],
    logger,
  });
  sched.addHook('onClose', () => schedRedis.disconnect());
  await sched.listen({ host: '127.0.0.1', port: 0 });
  const address = sched.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  work = await startWork({
    connect: () => connect({ url: redis.url }),
    keys,
    executors: new ExecutorRegistry(
      [new KubernetesExecutor({ client: h.client, timing: FAST_TIMING })],
      'kubernetes',
    ),
    concurrency: 8,
    maxEvents: 10_000,
    maxLogLines: 1000,
    logger,
    shutdownGraceMs: 1000,
  });
});

afterAll(async () => {
  await sched?.close();
  await work?.close();
  await h?.stop();
  await redis?.stop();
});

async function logOf(uid: string, job: string): Promise<string> {
  return (await fetch(`${url}/api/runs/${uid}/jobs/${job}/logs`)).text();
}

const claimOf = (uid: string) =>
  h.client.core
    .readNamespacedPersistentVolumeClaim({ name: runClaimName(uid), namespace: h.client.namespace })
    .catch(() => undefined);

const job = (run: string, extra: Record<string, unknown> = {}) => ({
  image: 'busybox',
  run,
  ...extra,
});

describe('run workspaces on the kubernetes executor', () => {
  it("pass a file from extract to load to report through the run's claim, at $CHAINR_WORKSPACE (docs/PIPELINES.md's example)", async () => {
    // docs/PIPELINES.md's example, as written.
    const doc = readFileSync(new URL('../docs/PIPELINES.md', import.meta.url), 'utf8');
    const yaml = /<!-- example: workspace-kubernetes -->\s*```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
    const res = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: yaml ?? '',
    });
    const text = await res.text();
    expect(res.status, text).toBe(202);
    const run = JSON.parse(text) as RunBody;
    const ended = await waitForEnd(url, run.metadata.uid);
    expect(statuses(ended)).toEqual({
      extract: 'SUCCESSFUL',
      load: 'SUCCESSFUL',
      report: 'SUCCESSFUL',
    });
    expect((await logOf(run.metadata.uid, 'report')).trim()).toMatch(/^loaded\s+2 rows$/);
    const claim = await claimOf(run.metadata.uid);
    expect(claim?.metadata?.labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'chainr',
      'chainr.io/run': run.metadata.uid,
    });
    expect(claim?.spec).toMatchObject({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '5Gi' } },
      storageClassName: 'standard',
    });
    expect(claim?.status?.phase).toBe('Bound');
    // Every pod of the run mounted that one claim, the report's read-only.
    const pods = (
      await h.client.core.listNamespacedPod({
        namespace: h.client.namespace,
        labelSelector: `chainr.io/run=${run.metadata.uid}`,
      })
    ).items;
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      const volume = pod.spec?.volumes?.find((v) => v.persistentVolumeClaim);
      expect(volume?.persistentVolumeClaim?.claimName).toBe(runClaimName(run.metadata.uid));
      const container = pod.spec?.containers[0];
      expect(container?.env).toContainEqual({ name: 'CHAINR_WORKSPACE', value: '/workspace' });
      const mount = container?.volumeMounts?.find((m) => m.name === volume?.name);
      expect(mount?.mountPath).toBe('/workspace');
      expect(mount?.readOnly ?? false).toBe(pod.metadata?.labels?.['chainr.io/job'] === 'report');
    }
  });

  it('refuse at submission jobs that could need a ReadWriteOnce volume on two nodes at once', async () => {
    const res = await fetch(`${url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: [
        'kind: Pipeline',
        'workspace: {}',
        'jobs:',
        '  a: { image: busybox, run: "true" }',
        '  b: { image: busybox, run: "true", dependsOn: [{ job: a }] }',
        '  c: { image: busybox, run: "true", dependsOn: [{ job: a }] }',
        '',
      ].join('\n'),
    });
    const text = await res.text();
    expect(res.status, text).toBe(400);
    expect(text).toContain(
      'jobs \\"b\\" and \\"c\\" both use the run\'s workspace and may run at the same time, but its volume (ReadWriteOnce) is mounted by one node at a time',
    );
    expect(JSON.parse(text)).toMatchObject({ details: [{ path: 'jobs.c' }] });
  });

  it('keep the claim while a pod of a deleted run uses it, and delete it once that pod has ended', async () => {
    const run = await submit(url, {
      kind: 'Pipeline',
      workspace: {},
      jobs: { slow: job('echo started; sleep 2; echo x > "$CHAINR_WORKSPACE/late"') },
    });
    const uid = run.metadata.uid;
    await until(
      async () => (await logOf(uid, 'slow')).includes('started'),
      'the job started',
      20_000,
    );
    // The run deleted mid-way (as by an operator): recycle deletes its claim at once ...
    const runs = new RunStore(commands, keys, 10_000);
    const record = await runs.get(uid);
    if (!record) throw new Error('no run');
    await runs.delete(record);
    const recycler = testRecycler(commands, redis.url, keys, {
      kubernetes: { connect: () => Promise.resolve(h.client) },
    });
    await recycler.cycle();
    // ... but the API server keeps it while the pod runs (pvc-protection) ...
    const marked = await claimOf(uid);
    expect(marked?.metadata?.deletionTimestamp).toBeDefined();
    expect(marked?.metadata?.finalizers).toContain('kubernetes.io/pvc-protection');
    // ... and lets it go once the pod has ended.
    await until(async () => (await claimOf(uid)) === undefined, 'the claim gone', 20_000);
    await recycler.close();
  });
});
