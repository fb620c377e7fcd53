import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { claimCauses, jobCauses, pruneUnknown } from '../../../test/kube-sim/validate.ts';
import { buildClaimManifest, DEFAULT_WORKSPACE_VOLUME, runClaimName } from './workspace-claim.ts';
import type { ExecutionRequest } from '../executor.ts';
import {
  buildJobManifest,
  HELPER_IN_IMAGE,
  HELPER_IN_POD,
  literalForKubelet,
  OUTPUTS_TOO_LARGE,
  WRAPPER,
} from './manifest.ts';
import {
  CHAINR_IN_IMAGE,
  COLLECT_IN_POD,
  INPUTS_CONTAINER,
  INPUTS_IN_POD,
  MARKER_IN_POD,
  OUTPUTS_CONTAINER,
  type PodTransferSpec,
} from './pod-artifacts.ts';

const request: ExecutionRequest = {
  uid: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  job: 'build',
  attempt: 2,
  image: 'alpine:3.20',
  run: 'make all',
  env: { GREETING: 'hello' },
};
const options = { namespace: 'ci', ttlSecondsAfterFinished: 3600 };

describe('buildJobManifest', () => {
  it('is a Job the API server accepts as it is: valid, and without unknown fields', () => {
    const full = buildJobManifest(
      {
        ...request,
        timeoutMs: 90_000,
        resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '1Gi' } },
        kubernetes: {
          serviceAccountName: 'builder',
          nodeSelector: { 'kubernetes.io/arch': 'amd64' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'ci', effect: 'NoSchedule' }],
          imagePullSecrets: ['registry'],
        },
      },
      { ...options, instance: 'prod' },
    );
    for (const job of [full, buildJobManifest(request, options)]) {
      expect(jobCauses(job)).toEqual([]);
      expect(pruneUnknown(job, 'V1Job').unknown).toEqual([]);
    }
  });

  it('has secret variables read by the kubelet from the Secret (secretKeyRef), never a value', () => {
    const job = buildJobManifest(
      { ...request, secrets: { TOKEN: { name: 'db', key: 'password' } } },
      options,
    );
    expect(jobCauses(job)).toEqual([]);
    expect(pruneUnknown(job, 'V1Job').unknown).toEqual([]);
    const env = job.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === 'TOKEN')).toEqual({
      name: 'TOKEN',
      valueFrom: { secretKeyRef: { name: 'db', key: 'password' } },
    });
    expect(env.find((e) => e.name === 'GREETING')).toEqual({ name: 'GREETING', value: 'hello' });
  });

  it("mounts the run's claim at /workspace (read-only when asked), or the pipeline's own claim", () => {
    const job = buildJobManifest({ ...request, workspace: { readOnly: true } }, options);
    expect(jobCauses(job)).toEqual([]);
    expect(pruneUnknown(job, 'V1Job').unknown).toEqual([]);
    const pod = job.spec?.template.spec;
    expect(pod?.volumes).toContainEqual({
      name: 'workspace',
      persistentVolumeClaim: { claimName: runClaimName(request.uid) },
    });
    expect(pod?.containers[0]?.volumeMounts).toContainEqual({
      name: 'workspace',
      mountPath: '/workspace',
      readOnly: true,
    });
    expect(pod?.containers[0]?.env).toContainEqual({
      name: 'CHAINR_WORKSPACE',
      value: '/workspace',
    });
    const existing = buildJobManifest(
      { ...request, workspace: { readOnly: false, volume: { claimName: 'shared-data' } } },
      options,
    );
    expect(existing.spec?.template.spec?.volumes).toContainEqual({
      name: 'workspace',
      persistentVolumeClaim: { claimName: 'shared-data' },
    });
  });

  it("makes the run's claim from the pipeline's settings, else the deployment's: a valid claim", () => {
    const defaults = { ...DEFAULT_WORKSPACE_VOLUME, storageClassName: 'fast' };
    const own = buildClaimManifest(request.uid, undefined, defaults, { namespace: 'ci' });
    const asked = buildClaimManifest(
      request.uid,
      { size: '20Gi', accessModes: ['ReadWriteMany'], storageClassName: 'nfs' },
      defaults,
      { namespace: 'ci', instance: 'prod' },
    );
    for (const claim of [own, asked]) {
      expect(claimCauses(claim)).toEqual([]);
      expect(pruneUnknown(claim, 'V1PersistentVolumeClaim').unknown).toEqual([]);
    }
    expect(own.spec).toEqual({
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '1Gi' } },
      storageClassName: 'fast',
    });
    expect(asked.spec).toEqual({
      accessModes: ['ReadWriteMany'],
      resources: { requests: { storage: '20Gi' } },
      storageClassName: 'nfs',
    });
    expect(asked.metadata?.labels).toMatchObject({
      'chainr.io/run': request.uid,
      'chainr.io/instance': 'prod',
    });
  });

  it('runs the pod once, as chainr owns retries, and cleans up after itself', () => {
    const job = buildJobManifest(request, options);
    expect(job.spec?.backoffLimit).toBe(0);
    expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
    expect(job.spec?.ttlSecondsAfterFinished).toBe(3600);
    expect(job.spec?.activeDeadlineSeconds).toBeUndefined();
  });

  it("labels the Job and its pod with the attempt's identity", () => {
    const job = buildJobManifest(request, options);
    const labels = {
      'app.kubernetes.io/managed-by': 'chainr',
      'chainr.io/run': request.uid,
      'chainr.io/job': 'build',
      'chainr.io/attempt': '2',
    };
    expect(job.metadata).toMatchObject({ namespace: 'ci', labels });
    expect(job.metadata?.name).toMatch(/^chainr-build-2-[0-9a-f]{16}$/);
    expect(job.metadata?.annotations).toEqual({ 'chainr.io/identity': `${request.uid}/build/2` });
    expect(job.spec?.template.metadata?.labels).toEqual(labels);
  });

  it('turns the timeout into activeDeadlineSeconds, rounded up, plus the second the Job controller may count early', () => {
    expect(
      buildJobManifest({ ...request, timeoutMs: 1500 }, options).spec?.activeDeadlineSeconds,
    ).toBe(3);
    expect(
      buildJobManifest({ ...request, timeoutMs: 1 }, options).spec?.activeDeadlineSeconds,
    ).toBe(2);
  });

  it('gives the container the image, the identity, the env, the outputs file and the resources', () => {
    const job = buildJobManifest(
      { ...request, resources: { requests: { cpu: '1' }, limits: {} } },
      options,
    );
    const container = job.spec?.template.spec?.containers[0];
    expect(container?.image).toBe('alpine:3.20');
    expect(container?.command?.slice(0, 2)).toEqual(['sh', '-c']);
    expect(container?.command?.[4]).toBe('make all');
    expect(container?.env).toEqual([
      { name: 'GREETING', value: 'hello' },
      { name: 'CHAINR_RUN_UID', value: request.uid },
      { name: 'CHAINR_JOB_NAME', value: 'build' },
      { name: 'CHAINR_ATTEMPT', value: '2' },
      { name: 'CHAINR_OUTPUTS', value: '/chainr/outputs' },
    ]);
    expect(container?.resources).toEqual({ requests: { cpu: '1' } });
    expect(container?.terminationMessagePolicy).toBe('File');
  });

  it("keeps the cluster's credentials and service links out of the job unless asked", () => {
    const plain = buildJobManifest(request, options).spec?.template.spec;
    expect(plain?.automountServiceAccountToken).toBe(false);
    expect(plain?.enableServiceLinks).toBe(false);
    expect(plain?.serviceAccountName).toBeUndefined();
    const withAccount = buildJobManifest(
      { ...request, kubernetes: { serviceAccountName: 'deployer', imagePullSecrets: ['reg'] } },
      options,
    ).spec?.template.spec;
    expect(withAccount?.automountServiceAccountToken).toBe(true);
    expect(withAccount?.serviceAccountName).toBe('deployer');
    expect(withAccount?.imagePullSecrets).toEqual([{ name: 'reg' }]);
  });
});

describe('buildJobManifest with chainr-exec (a helper image)', () => {
  const withHelper = { ...options, helperImage: 'registry.example/chainr:1.0' };
  const program: ExecutionRequest = {
    ...request,
    run: undefined,
    argv: ['/app/migrate', '--target', 'prod'],
  };

  it('copies chainr-exec from the helper image into the shared volume with an init container', () => {
    const spec = buildJobManifest(program, withHelper).spec?.template.spec;
    expect(spec?.volumes).toEqual([{ name: 'chainr', emptyDir: {} }]);
    expect(spec?.initContainers).toEqual([
      {
        name: 'chainr-init',
        image: 'registry.example/chainr:1.0',
        command: [HELPER_IN_IMAGE, 'install', HELPER_IN_POD],
        resources: {},
        volumeMounts: [{ name: 'chainr', mountPath: '/chainr' }],
      },
    ]);
    const full = buildJobManifest(
      { ...program, resources: { limits: { memory: '1Gi' } } },
      withHelper,
    );
    expect(jobCauses(full)).toEqual([]);
    expect(pruneUnknown(full, 'V1Job').unknown).toEqual([]);
    // The pod's requests stay the job's: the init container asks for no more.
    expect(full.spec?.template.spec?.initContainers?.[0]?.resources).toEqual({
      limits: { memory: '1Gi' },
    });
  });

  it('runs a program and its arguments under chainr-exec, with no shell anywhere in the pod', () => {
    const spec = buildJobManifest(program, withHelper).spec?.template.spec;
    const container = spec?.containers[0];
    expect(container?.command).toEqual([
      HELPER_IN_POD,
      'run',
      '/chainr/outputs',
      '/dev/termination-log',
      '/app/migrate',
      '--target',
      'prod',
    ]);
    const everything = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
    expect(everything.flatMap((c) => [...(c.command ?? []), ...(c.args ?? [])])).not.toContain(
      'sh',
    );
  });

  it('runs a shell command under chainr-exec as sh -c', () => {
    const container = buildJobManifest(request, withHelper).spec?.template.spec?.containers[0];
    expect(container?.command?.slice(4)).toEqual(['sh', '-c', 'make all']);
  });

  it('refuses a program without a helper image, saying what to set', () => {
    expect(() => buildJobManifest(program, options)).toThrow(
      /needs chainr-exec in its pod: set CHAINR_KUBERNETES_HELPER_IMAGE/,
    );
  });

  it("doubles every $ of the command and the variables, so that the kubelet's expansion gives them back", () => {
    const job = buildJobManifest(
      { ...program, argv: ['echo', '$(HOME)', '$$'], env: { PRICE: '$5 $(X)' } },
      withHelper,
    );
    const container = job.spec?.template.spec?.containers[0];
    expect(container?.command?.slice(4)).toEqual(['echo', '$$(HOME)', '$$$$']);
    expect(container?.env?.find((e) => e.name === 'PRICE')?.value).toBe('$$5 $$(X)');
    expect(literalForKubelet('a$b')).toBe('a$$b');
  });
});

describe('buildJobManifest with artifacts', () => {
  const withHelper = { ...options, helperImage: 'registry.example/chainr:1.0' };
  const spec: PodTransferSpec = {
    s3: {
      bucket: 'artifacts',
      prefix: 'chainr/',
      endpoint: 'https://s3.example',
      region: 'eu-west-1',
      forcePathStyle: true,
    },
    attempt: { uid: request.uid, job: request.job, attempt: request.attempt },
    limits: { perArtifact: 1024, perRun: 4096 },
    used: 0,
    produces: [
      { name: 'app', path: 'dist/app.bin' },
      { name: 'site', path: 'site' },
    ],
    receives: [
      {
        from: 'extract',
        name: 'rows',
        record: { name: 'rows', kind: 'file', size: 8, sha256: 'a'.repeat(64), attempt: 1 },
      },
    ],
  };
  const artifacts = { spec, credentialsSecret: 'chainr-s3' };

  it('is a Job the API server accepts as it is: valid, and without unknown fields', () => {
    const job = buildJobManifest(request, withHelper, artifacts);
    expect(jobCauses(job)).toEqual([]);
    expect(pruneUnknown(job, 'V1Job').unknown).toEqual([]);
  });

  it("places the inputs with an init container of chainr's image, at $CHAINR_ARTIFACTS", () => {
    const pod = buildJobManifest(request, withHelper, artifacts).spec?.template.spec;
    const inputs = pod?.initContainers?.[1];
    expect(pod?.initContainers?.map((c) => c.name)).toEqual(['chainr-init', INPUTS_CONTAINER]);
    expect(inputs?.image).toBe('registry.example/chainr:1.0');
    expect(inputs?.command?.slice(0, 5)).toEqual([
      CHAINR_IN_IMAGE,
      'pod-artifacts',
      'inputs',
      INPUTS_IN_POD,
      '/dev/termination-log',
    ]);
    expect(JSON.parse(inputs?.command?.[5] ?? '')).toEqual(spec);
    expect(pod?.containers[0]?.env).toContainEqual({
      name: 'CHAINR_ARTIFACTS',
      value: INPUTS_IN_POD,
    });
  });

  it('has the wrapper collect the declared paths and a second container store them', () => {
    const pod = buildJobManifest(request, withHelper, artifacts).spec?.template.spec;
    expect(pod?.containers[0]?.command?.slice(0, 11)).toEqual([
      HELPER_IN_POD,
      'run-collect',
      '/chainr/outputs',
      '/dev/termination-log',
      COLLECT_IN_POD,
      MARKER_IN_POD,
      '2',
      'app',
      'dist/app.bin',
      'site',
      'site',
    ]);
    const outputs = pod?.containers[1];
    expect(outputs?.name).toBe(OUTPUTS_CONTAINER);
    expect(outputs?.command?.slice(1, 6)).toEqual([
      'pod-artifacts',
      'outputs',
      COLLECT_IN_POD,
      MARKER_IN_POD,
      '/dev/termination-log',
    ]);
    expect(outputs?.volumeMounts).toEqual([{ name: 'chainr', mountPath: '/chainr' }]);
  });

  it("gives the transfer containers the store's credentials from the deployment's Secret only", () => {
    const pod = buildJobManifest(request, withHelper, artifacts).spec?.template.spec;
    for (const c of [pod?.initContainers?.[1], pod?.containers[1]])
      expect(c?.env).toEqual([
        {
          name: 'AWS_ACCESS_KEY_ID',
          valueFrom: { secretKeyRef: { name: 'chainr-s3', key: 'AWS_ACCESS_KEY_ID' } },
        },
        {
          name: 'AWS_SECRET_ACCESS_KEY',
          valueFrom: { secretKeyRef: { name: 'chainr-s3', key: 'AWS_SECRET_ACCESS_KEY' } },
        },
      ]);
    // The job's own container gets none of them.
    expect(JSON.stringify(pod?.containers[0])).not.toContain('AWS_');
    // Without a Secret, the pod's identity: no variables.
    const bare = buildJobManifest(request, withHelper, { spec }).spec?.template.spec;
    expect(bare?.containers[1]?.env).toBeUndefined();
  });

  it('adds only what the job needs: no inputs, no init container for them; nothing produced, no second container', () => {
    const consumer = buildJobManifest(request, withHelper, {
      spec: { ...spec, produces: [] },
    }).spec?.template.spec;
    expect(consumer?.containers.map((c) => c.name)).toEqual(['job']);
    expect(consumer?.containers[0]?.command?.[1]).toBe('run');
    const producer = buildJobManifest(request, withHelper, {
      spec: { ...spec, receives: [] },
    }).spec?.template.spec;
    expect(producer?.initContainers?.map((c) => c.name)).toEqual(['chainr-init']);
    expect(producer?.containers[0]?.env?.map((e) => e.name)).not.toContain('CHAINR_ARTIFACTS');
  });

  it("refuses artifacts without chainr's image, saying what to set", () => {
    expect(() => buildJobManifest(request, options, artifacts)).toThrow(
      /set CHAINR_KUBERNETES_HELPER_IMAGE/,
    );
  });
});

describe('the wrapper script', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chainr-wrapper-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const shells = ['sh', 'dash', 'bash', 'busybox'].filter(
    (s) => spawnSync('sh', ['-c', `command -v ${s}`]).status === 0,
  );

  const run = (shell: string, script: string, name: string) => {
    const outputs = join(dir, `${name}-outputs`);
    const message = join(dir, `${name}-message`);
    const argv = shell === 'busybox' ? ['sh', '-c'] : ['-c'];
    const r = spawnSync(shell, [...argv, WRAPPER, 'chainr-job', script, message], {
      env: { PATH: process.env.PATH, CHAINR_OUTPUTS: outputs },
      encoding: 'utf8',
      // Not a socket on stdin: bash would take itself for a remote shell and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return {
      status: r.status,
      stdout: r.stdout,
      stderr: r.stderr,
      message: readFileSync(message, 'utf8'),
    };
  };

  it.each(shells)('keeps the exit code and output, and copies the outputs (%s)', (shell) => {
    const r = run(
      shell,
      'echo out; echo err >&2; echo "a=1" >> "$CHAINR_OUTPUTS"; exit 7',
      `ok-${shell}`,
    );
    expect(r).toEqual({ status: 7, stdout: 'out\n', stderr: 'err\n', message: 'a=1\n' });
  });

  it.each(shells)('writes a marker instead of outputs over 4 KiB (%s)', (shell) => {
    const r = run(
      shell,
      'head -c 5000 /dev/zero | tr "\\0" x >> "$CHAINR_OUTPUTS"',
      `big-${shell}`,
    );
    expect(r.status).toBe(0);
    expect(r.message).toBe(`${OUTPUTS_TOO_LARGE}5000`);
  });

  it('forwards SIGTERM to the command and exits with its status', async () => {
    const child = spawn(
      'sh',
      ['-c', WRAPPER, 'chainr-job', 'echo up; sleep 30', join(dir, 'term')],
      {
        env: { PATH: process.env.PATH, CHAINR_OUTPUTS: join(dir, 'term-outputs') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((up) => child.stdout.once('data', () => up()));
    const started = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
    expect(code).toBe(143);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(stderr).toBe('');
  });
});
