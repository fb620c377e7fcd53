import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobCauses, pruneUnknown } from '../../../test/kube-sim/validate.ts';
import type { ExecutionRequest } from '../executor.ts';
import { buildJobManifest, OUTPUTS_TOO_LARGE, WRAPPER } from './manifest.ts';

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

  it('turns the timeout into activeDeadlineSeconds, rounded up to whole seconds', () => {
    expect(
      buildJobManifest({ ...request, timeoutMs: 1500 }, options).spec?.activeDeadlineSeconds,
    ).toBe(2);
    expect(
      buildJobManifest({ ...request, timeoutMs: 1 }, options).spec?.activeDeadlineSeconds,
    ).toBe(1);
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
