/**
 * chainr end to end on the kubernetes executor, with a real redis-server: the conformance
 * pipelines (the seed example first) through sched and work, outputs passed to a dependent job,
 * and a `chainr work` process SIGKILLed mid-job whose successor re-attaches to the running Job —
 * one Kubernetes Job per attempt and each of its log lines recorded once, whatever dies. Against
 * the simulator, or with `KUBECONFIG=... npm run test:k8s` against a real cluster (all but the
 * SIGKILL test, which needs the simulator's counters and pods running on this host).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceCases } from '../src/core/conformance.fixture.ts';
import { connectKubernetes, type KubernetesClient } from '../src/executors/kubernetes/client.ts';
import { KubernetesExecutor } from '../src/executors/kubernetes/executor.ts';
import { kubernetesJobName } from '../src/executors/kubernetes/naming.ts';
import { ExecutorRegistry } from '../src/executors/registry.ts';
import { buildSched } from '../src/services/sched/service.ts';
import { startWork, type WorkService } from '../src/services/work/service.ts';
import { loadConfig } from '../src/config.ts';
import { connect } from '../src/store/connection.ts';
import { makeKeys } from '../src/store/keys.ts';
import { statuses, submit, waitForEnd } from './fixtures/api.ts';
import { spawnChainr } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { realCluster } from './executors/real-cluster.ts';
import { FAST_TIMING, SimHarness } from './kube-sim/harness.ts';
import { until } from './fixtures/wait.ts';

let redis: TestRedis;
let scratch: string;
let h: SimHarness | undefined;
let client: KubernetesClient;
const logger = pino({ level: 'silent' });
const runTimeoutMs = realCluster ? 300_000 : 30_000;

beforeAll(async () => {
  redis = await startRedis();
  scratch = mkdtempSync(join(tmpdir(), 'chainr-k8s-e2e-'));
  if (realCluster) client = connectKubernetes(realCluster);
  else {
    h = await SimHarness.start();
    client = h.client;
  }
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await h?.stop();
  await redis.stop();
});

function simulator(): SimHarness {
  if (!h) throw new Error('this test needs the simulator');
  return h;
}

/** Jobs created under this name: counted by the simulator; on a cluster, those that exist. */
async function jobsCreated(name: string): Promise<number> {
  if (h) return h.sim.jobsCreated(name);
  const found = await client.batch.listNamespacedJob({
    namespace: client.namespace,
    fieldSelector: `metadata.name=${name}`,
  });
  return found.items.length;
}

/** sched in this process, with kubernetes as the default executor. */
async function startSched(prefix: string): Promise<{ app: FastifyInstance; url: string }> {
  const commands = connect({ url: redis.url }, { commandTimeoutMs: loadConfig({}).redisTimeoutMs });
  const app = await buildSched({
    redis: commands,
    connectBlocking: () => connect({ url: redis.url }),
    keys: makeKeys(prefix),
    maxEvents: 10_000,
    maxLogLines: 1000,
    maxJobsPerPipeline: 100,
    bodyLimitBytes: 1024 * 1024,
    defaultExecutor: 'kubernetes',
    logger,
  });
  app.addHook('onClose', () => commands.disconnect());
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return {
    app,
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
  };
}

/** `chainr work` in this process, on the kubernetes executor. */
function startWorker(prefix: string): Promise<WorkService> {
  const executor = new KubernetesExecutor({ client, timing: realCluster ? {} : FAST_TIMING });
  return startWork({
    connect: () => connect({ url: redis.url }),
    keys: makeKeys(prefix),
    executors: new ExecutorRegistry([executor], 'kubernetes'),
    concurrency: 16,
    maxEvents: 10_000,
    maxLogLines: 1000,
    logger,
    shutdownGraceMs: 1000,
  });
}

async function logOf(url: string, uid: string, job: string): Promise<string[]> {
  const res = await fetch(`${url}/api/runs/${uid}/jobs/${job}/logs`);
  return (await res.text()).split('\n').filter(Boolean);
}

describe('chainr on the kubernetes executor, in process', () => {
  let sched: { app: FastifyInstance; url: string };
  let work: WorkService;

  beforeAll(async () => {
    const prefix = `k${randomUUID().slice(0, 8)}:`;
    sched = await startSched(prefix);
    work = await startWorker(prefix);
  });
  afterAll(async () => {
    await sched.app.close();
    await work.close();
  });

  it.concurrent.each(conformanceCases)('$name', async ({ pipeline, expect: expected }) => {
    const run = await submit(sched.url, pipeline);
    const uid = run.metadata.uid;
    const ended = await waitForEnd(sched.url, uid, runTimeoutMs);
    expect({ status: ended.status, jobs: statuses(ended) }).toEqual(expected);
    // One Kubernetes Job per attempt that ran; none for a skipped job.
    for (const [job, status] of Object.entries(expected.jobs)) {
      const ran = status === 'SUCCESSFUL' || status === 'FAILED';
      expect(await jobsCreated(kubernetesJobName({ uid, job, attempt: 1 })), job).toBe(ran ? 1 : 0);
    }
  });

  it("passes a job's outputs to its dependents", async () => {
    const run = await submit(sched.url, {
      kind: 'Pipeline',
      jobs: {
        build: { image: 'busybox', run: 'echo "tag=v1.2.3" >> "$CHAINR_OUTPUTS"' },
        deploy: {
          image: 'busybox',
          run: 'echo "deploying $CHAINR_BUILD_TAG"',
          dependsOn: [{ job: 'build' }],
        },
      },
    });
    const ended = await waitForEnd(sched.url, run.metadata.uid, runTimeoutMs);
    expect(statuses(ended)).toEqual({ build: 'SUCCESSFUL', deploy: 'SUCCESSFUL' });
    expect(await logOf(sched.url, run.metadata.uid, 'deploy')).toEqual(['deploying v1.2.3']);
  });
});

describe.skipIf(realCluster)('a worker SIGKILLed while its Kubernetes job runs', () => {
  it('is replaced by a worker that re-attaches to the running Job: one Job, each log line once', async () => {
    const { sim } = simulator();
    const prefix = `s${randomUUID().slice(0, 8)}:`;
    const sched = await startSched(prefix);
    // The job writes numbered lines until the test creates this file (the simulator's pods run
    // on this host): before the kill, while no worker follows it, and after the re-attach.
    const go = join(scratch, `go-${prefix}`);
    const env = {
      REDIS_URL: redis.url,
      CHAINR_PREFIX: prefix,
      CHAINR_EXECUTOR: 'kubernetes',
      KUBECONFIG: sim.writeKubeconfig(),
    };
    const first = spawnChainr(['work'], env);
    let second: WorkService | undefined;
    try {
      const run = await submit(sched.url, {
        kind: 'Pipeline',
        jobs: {
          slow: {
            image: 'busybox',
            run: 'echo started; i=0; while [ ! -f "$GO" ]; do i=$((i+1)); echo "line $i"; sleep 0.05; done; echo finished',
            env: { GO: go },
          },
          after: { image: 'busybox', run: 'echo after', dependsOn: [{ job: 'slow' }] },
        },
      });
      const uid = run.metadata.uid;
      const slowJob = kubernetesJobName({ uid, job: 'slow', attempt: 1 });
      await until(
        async () => (await logOf(sched.url, uid, 'slow')).includes('line 3'),
        () => `the job to start:\n${first.output()}`,
        60_000,
      );
      await first.kill('SIGKILL');
      const recordedByFirst = (await logOf(sched.url, uid, 'slow')).length;
      await expireLock(prefix, `${uid}/slow/1`);
      // Its successor (here in this process: the dead one is what had to be a real process).
      second = await startWorker(prefix);
      // After its create is answered 409, the executor reads the Job to check it is the attempt's.
      const reattached = () =>
        sim.requests.some((r) => r.verb === 'get' && r.resource === 'jobs' && r.name === slowJob);
      await until(reattached, () => 'the new worker to find the Job', 60_000);
      const pods = sim.store.list('pods', (p) => p.metadata.labels?.['chainr.io/run'] === uid);
      expect(pods.map((p) => p.status?.phase)).toEqual(['Running']); // re-attached while it runs
      // Lines from after the kill recorded by the successor, then the end.
      await until(
        async () => (await logOf(sched.url, uid, 'slow')).length > recordedByFirst + 20,
        () => 'the new worker to record the lines written since the kill',
        60_000,
      );
      writeFileSync(go, '');
      const ended = await waitForEnd(sched.url, uid, 30_000);
      expect(statuses(ended)).toEqual({ slow: 'SUCCESSFUL', after: 'SUCCESSFUL' });
      expect(sim.jobsCreated(slowJob)).toBe(1);
      expect(sim.jobsCreated(kubernetesJobName({ uid, job: 'after', attempt: 1 }))).toBe(1);
      const log = await logOf(sched.url, uid, 'slow');
      const reattachedAt = log.indexOf(
        `chainr: re-attached to the running Kubernetes Job default/${slowJob}`,
      );
      expect(reattachedAt).toBeGreaterThanOrEqual(recordedByFirst);
      // Each line the job wrote exactly once, in order, whichever worker recorded it.
      const lines = log.filter((l) => !l.startsWith('chainr: '));
      const numbered = lines.slice(1, -1).map((_, i) => `line ${i + 1}`);
      expect(lines).toEqual(['started', ...numbered, 'finished']);
    } finally {
      await first.kill('SIGKILL');
      await second?.close();
      await sched.app.close();
    }
  }, 120_000); // starting a `chainr work` process takes long on a loaded machine
});

/**
 * What 30 s of waiting would do: the dead worker's BullMQ lock expires and the stalled-job check
 * finds the attempt. Done by hand (BullMQ's keys) so the test does not wait for the lock duration.
 */
async function expireLock(prefix: string, jobId: string): Promise<void> {
  const client = redis.client();
  const queue = `${prefix}bull:ready-kubernetes`;
  await client.del(`${queue}:${jobId}:lock`, `${queue}:stalled-check`);
  await client.sadd(`${queue}:stalled`, jobId);
}
