/**
 * Artifacts on the kubernetes executor, against the simulator (init containers, several
 * containers at once, emptyDir, secretKeyRef) and s3rver, with a real redis-server: the job's
 * image needs nothing of chainr; chainr's image (its chainr-exec and `chainr pod-artifacts`)
 * places the inputs before the job starts and stores the declared paths after it ended, reading
 * the store's credentials from the deployment's Secret. The worker itself never reads or writes
 * an artifact's bytes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FilesystemArtifactStore } from '../src/artifacts/filesystem-store.ts';
import { S3ArtifactStore } from '../src/artifacts/s3-store.ts';
import { loadConfig } from '../src/config.ts';
import { INPUTS_CONTAINER, OUTPUTS_CONTAINER } from '../src/executors/kubernetes/pod-artifacts.ts';
import { ExecutorRegistry } from '../src/executors/registry.ts';
import { buildSched } from '../src/services/sched/service.ts';
import type { ArtifactSettings } from '../src/services/work/attempt.ts';
import { startWork, type WorkService } from '../src/services/work/service.ts';
import { connect } from '../src/store/connection.ts';
import { makeKeys } from '../src/store/keys.ts';
import { statuses, waitForEnd, type RunBody } from './fixtures/api.ts';
import { buildChainrExec, HELPER_IMAGE, type BuiltHelper } from './fixtures/chainr-exec.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from './fixtures/s3-server.ts';
import { SimHarness } from './kube-sim/harness.ts';

const logger = pino({ level: 'silent' });
const SECRET = 'chainr-artifacts';

interface Deployment {
  url: string;
  stop(): Promise<void>;
}

let redis: TestRedis;
let s3: TestS3;
let helper: BuiltHelper;
let h: SimHarness;
let store: S3ArtifactStore;
let withS3: Deployment;
let withFilesystem: Deployment;

/**
 * sched and work on the simulator, under keys of their own, with the S3 store, or with the
 * filesystem store (as chainr does without CHAINR_ARTIFACTS_S3_BUCKET: no store for the pods).
 */
async function deploy(onS3: boolean): Promise<Deployment> {
  const keys = makeKeys(`k${randomUUID().slice(0, 8)}:`);
  const dir = mkdtempSync(join(tmpdir(), 'chainr-k8s-artifacts-'));
  const artifactStore = onS3 ? store : new FilesystemArtifactStore(dir);
  const artifacts: ArtifactSettings = {
    store: artifactStore,
    limits: { perArtifact: 1024 ** 2, perRun: 10 * 1024 ** 2 },
  };
  const commands = connect({ url: redis.url }, { commandTimeoutMs: loadConfig({}).redisTimeoutMs });
  const sched: FastifyInstance = await buildSched({
    redis: commands,
    connectBlocking: () => connect({ url: redis.url }),
    keys,
    maxEvents: 10_000,
    maxLogLines: 1000,
    maxJobsPerPipeline: 100,
    bodyLimitBytes: 1024 * 1024,
    defaultExecutor: 'kubernetes',
    artifacts: artifactStore,
    logger,
  });
  sched.addHook('onClose', () => commands.disconnect());
  await sched.listen({ host: '127.0.0.1', port: 0 });
  const address = sched.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const s3Config = {
    bucket: s3.bucket,
    prefix: 'k8s/',
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
  };
  const work: WorkService = await startWork({
    connect: () => connect({ url: redis.url }),
    keys,
    executors: new ExecutorRegistry(
      [
        h.executor({
          helperImage: HELPER_IMAGE,
          artifacts: onS3 ? { s3: s3Config, credentialsSecret: SECRET } : {},
        }),
      ],
      'kubernetes',
    ),
    concurrency: 4,
    maxEvents: 10_000,
    maxLogLines: 1000,
    artifacts,
    logger,
    shutdownGraceMs: 1000,
  });
  return {
    url,
    stop: async () => {
      await sched.close();
      await work.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

beforeAll(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3()]);
  helper = buildChainrExec();
  h = await SimHarness.start({ images: helper.images });
  // The API's downloads read the store with the worker's credentials; pods get theirs from the
  // Secret only (the simulator gives a container no variable of the test's own).
  process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
  store = new S3ArtifactStore({
    bucket: s3.bucket,
    prefix: 'k8s/',
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
  });
  await h.client.core.createNamespacedSecret({
    namespace: h.client.namespace,
    body: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: SECRET },
      stringData: {
        AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      },
    },
  });
  [withS3, withFilesystem] = await Promise.all([deploy(true), deploy(false)]);
}, 120_000);

afterAll(async () => {
  await withS3?.stop();
  await withFilesystem?.stop();
  store?.close();
  await h?.stop();
  helper?.remove();
  await Promise.all([s3?.stop(), redis?.stop()]);
});

async function submit(url: string, jobs: Record<string, unknown>): Promise<RunBody> {
  const res = await fetch(`${url}/api/runs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'Pipeline', jobs }),
  });
  const text = await res.text();
  expect(res.status, text).toBe(202);
  return waitForEnd(url, (JSON.parse(text) as RunBody).metadata.uid, 120_000);
}

const jobOf = (run: RunBody, name: string) => run.jobs.find((j) => j.name === name);

const ROWS = 'a,1\nb,2\nc,3\n';

describe('artifacts on the kubernetes executor', () => {
  it('moves a file and a directory from a job to its dependent through the pods, with size and sha256 recorded', async () => {
    const run = await submit(withS3.url, {
      extract: {
        image: 'busybox',
        run: `mkdir -p out/parts && printf '${ROWS.replaceAll('\n', '\\n')}' > rows.csv && echo one > out/parts/1 && echo two > out/2`,
        artifacts: [
          { name: 'rows', path: 'rows.csv' },
          { name: 'out', path: 'out' },
        ],
      },
      load: {
        image: 'busybox',
        dependsOn: [{ job: 'extract' }],
        inputs: {
          artifacts: [
            { from: 'extract', name: 'rows' },
            { from: 'extract', name: 'out' },
          ],
        },
        run: 'echo "$(wc -l < "$CHAINR_ARTIFACTS/extract/rows") rows; $(cat "$CHAINR_ARTIFACTS/extract/out/parts/1") $(cat "$CHAINR_ARTIFACTS/extract/out/2")"',
      },
    });
    const uid = run.metadata.uid;
    expect(statuses(run), JSON.stringify(run.jobs)).toEqual({
      extract: 'SUCCESSFUL',
      load: 'SUCCESSFUL',
    });
    expect(
      (await (await fetch(`${withS3.url}/api/runs/${uid}/jobs/load/logs`)).text()).trim(),
    ).toMatch(/^3 rows; one two$/);
    const records = (jobOf(run, 'extract') as { artifacts?: unknown[] }).artifacts;
    expect(records).toEqual([
      {
        name: 'rows',
        kind: 'file',
        size: ROWS.length,
        sha256: createHash('sha256').update(ROWS).digest('hex'),
        attempt: 1,
      },
      expect.objectContaining({ name: 'out', kind: 'directory', attempt: 1 }),
    ]);
    const file = await fetch(`${withS3.url}/api/runs/${uid}/jobs/extract/artifacts/rows`);
    expect(await file.text()).toBe(ROWS);
    // The pods: the inputs placed by an init container, the outputs stored by a second
    // container, both of chainr's image, credentials from the Secret.
    const pods = (
      await h.client.core.listNamespacedPod({
        namespace: h.client.namespace,
        labelSelector: `chainr.io/run=${uid}`,
      })
    ).items;
    const podOf = (job: string) => pods.find((p) => p.metadata?.labels?.['chainr.io/job'] === job);
    const extract = podOf('extract')?.spec;
    const load = podOf('load')?.spec;
    expect(extract?.containers.map((c) => c.name)).toEqual(['job', OUTPUTS_CONTAINER]);
    expect(extract?.containers[1]?.env).toContainEqual({
      name: 'AWS_SECRET_ACCESS_KEY',
      valueFrom: { secretKeyRef: { name: SECRET, key: 'AWS_SECRET_ACCESS_KEY' } },
    });
    expect(JSON.stringify(extract)).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
    expect(load?.initContainers?.map((c) => c.name)).toEqual(['chainr-init', INPUTS_CONTAINER]);
    expect(load?.containers.map((c) => c.name)).toEqual(['job']);
  }, 180_000);

  it('fails the job naming a declared path that does not exist, as the other executors do', async () => {
    const run = await submit(withS3.url, {
      build: {
        image: 'busybox',
        run: 'echo built > app.bin',
        artifacts: [
          { name: 'app', path: 'app.bin' },
          { name: 'docs', path: 'site/docs' },
        ],
      },
    });
    expect(statuses(run)).toEqual({ build: 'FAILED' });
    expect(jobOf(run, 'build')?.reason).toBe('artifact "docs": site/docs does not exist');
  }, 120_000);

  it('fails a failed job for its own exit code, storing nothing', async () => {
    const run = await submit(withS3.url, {
      build: {
        image: 'busybox',
        run: 'echo partial > app.bin; exit 3',
        artifacts: [{ name: 'app', path: 'app.bin' }],
      },
    });
    expect(statuses(run)).toEqual({ build: 'FAILED' });
    expect(jobOf(run, 'build')?.reason).toBe('exit code 3');
    expect((jobOf(run, 'build') as { artifacts?: unknown }).artifacts).toBeUndefined();
  }, 120_000);

  it('fails a job over the per-artifact limit, saying which limit', async () => {
    const run = await submit(withS3.url, {
      big: {
        image: 'busybox',
        run: 'head -c 2000000 /dev/zero > big.bin',
        artifacts: [{ name: 'big', path: 'big.bin' }],
      },
    });
    expect(statuses(run)).toEqual({ big: 'FAILED' });
    expect(jobOf(run, 'big')?.reason).toMatch(
      /^artifact "big" is larger than the limit of 1048576 bytes per artifact \(CHAINR_ARTIFACT_MAX_BYTES\)$/,
    );
  }, 120_000);

  it("with the filesystem store, fails the job naming it: pods cannot reach the worker's files", async () => {
    const run = await submit(withFilesystem.url, {
      extract: {
        image: 'busybox',
        run: 'echo x > x',
        artifacts: [{ name: 'x', path: 'x' }],
      },
    });
    expect(statuses(run)).toEqual({ extract: 'FAILED' });
    expect(jobOf(run, 'extract')?.reason).toBe(
      'job "extract" stores or receives artifacts, but its pod cannot reach this worker\'s filesystem artifact store: the kubernetes executor needs an S3-compatible store (CHAINR_ARTIFACTS_S3_BUCKET, docs/KUBERNETES.md)',
    );
  }, 60_000);
});
