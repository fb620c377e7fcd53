/**
 * What a user sees when a Kubernetes job cannot run, against the simulator: an image that cannot
 * be pulled, an unschedulable pod, RBAC refusals, an invalid Job, a missing namespace, a Job
 * deleted by someone else; and what cancel and worker shutdown do to the Job and its pods.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_SHUTDOWN_REASON } from '../src/executors/kubernetes/executor.ts';
import { jobLines, notes, SimHarness } from './kube-sim/harness.ts';
import { until, isRunning } from './fixtures/wait.ts';

let h: SimHarness;
let scratch: string;
beforeAll(async () => {
  h = await SimHarness.start();
  scratch = mkdtempSync(join(tmpdir(), 'chainr-k8s-failures-'));
});
afterAll(async () => {
  await h.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const jobExists = (name: string) => h.sim.store.get('jobs', 'default', name) !== undefined;
const podsOf = (name: string) =>
  h.sim.store.list('pods', (p) => p.metadata.name.startsWith(`${name}-`));

describe('kubernetes executor: jobs that cannot run', () => {
  it('fails after the grace period when the image cannot be pulled, naming the image and why', async () => {
    h.sim.faults.failImagePull(
      'registry.example/app:missing',
      'manifest unknown: manifest unknown',
    );
    const request = h.request('echo never', { image: 'registry.example/app:missing' });
    const name = h.jobName(request);
    const run = h.start(request);
    const result = await run.result;
    expect(result).toEqual({
      status: 'FAILED',
      exitCode: null,
      reason:
        'the image "registry.example/app:missing" cannot be pulled: ErrImagePull: manifest unknown: manifest unknown',
    });
    expect(notes(run.logs)[0]).toMatch(
      /^chainr: the pod is not running: the image "registry.example\/app:missing" cannot be pulled/,
    );
    expect(jobExists(name)).toBe(false); // given up: deleted, with its pod
    await until(() => podsOf(name).length === 0, 'the pod to be deleted');
  });

  it("shows the scheduler's reason while the pod is pending, then fails after the grace period", async () => {
    h.sim.faults.makeUnschedulable(
      (p) => p.spec?.nodeSelector?.pool === 'gpu',
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.",
    );
    const request = h.request('echo never', { kubernetes: { nodeSelector: { pool: 'gpu' } } });
    const run = h.start(request);
    const result = await run.result;
    const why =
      "the pod cannot be scheduled: 0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector.";
    expect(result).toEqual({ status: 'FAILED', exitCode: null, reason: why });
    expect(notes(run.logs)).toEqual([`chainr: the pod is not running: ${why}`]);
    expect(jobExists(h.jobName(request))).toBe(false);
  });

  it('runs a pod that becomes schedulable within the grace period', async () => {
    h.sim.faults.makeUnschedulable((p) => p.spec?.nodeSelector?.pool === 'later');
    const request = h.request('echo ran', { kubernetes: { nodeSelector: { pool: 'later' } } });
    const run = h.start(request, h.executor({ timing: { unschedulableGraceMs: 10_000 } }));
    await until(() => notes(run.logs).length > 0, "the scheduler's reason in the log");
    h.sim.faults.unschedulable = undefined;
    expect(await run.result).toMatchObject({ status: 'SUCCESSFUL' });
    expect(notes(run.logs)[0]).toMatch(
      /^chainr: the pod is not running: the pod cannot be scheduled: 0\/3 nodes/,
    );
    expect(jobLines(run.logs)).toEqual(['ran']);
  });

  it('reports an OOM-killed container as such', async () => {
    h.sim.faults.oomKill.add('memory-hog:1');
    const result = await h.start(h.request('echo start; sleep 5', { image: 'memory-hog:1' }))
      .result;
    expect(result).toEqual({
      status: 'FAILED',
      exitCode: null,
      reason: 'OOMKilled: the container exceeded its memory limit (exit code 137)',
    });
  });

  it('ends a timed-out attempt itself, and deletes its Job, when the Job controller is behind', async () => {
    h.sim.faults.deadlinesLate = true;
    try {
      const request = h.request('echo started; sleep 30', { timeoutMs: 1000 });
      const name = h.jobName(request);
      const startedAt = Date.now();
      const run = h.start(request, h.executor({ timing: { deadlineMarginMs: 500 } }));
      expect(await run.result).toEqual({
        status: 'FAILED',
        exitCode: null,
        reason: 'timed out after 1s',
      });
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      expect(jobExists(name)).toBe(false);
      await until(() => podsOf(name).length === 0, 'the pod to be deleted');
    } finally {
      h.sim.faults.deadlinesLate = false;
    }
  });

  it("fails with the API server's words when the Job is invalid", async () => {
    const request = h.request('true', { resources: { requests: { cpu: 'lots' } } });
    const result = await h.start(request).result;
    expect(result.status).toBe('FAILED');
    expect(result.reason).toContain(
      `could not create the Kubernetes Job default/${h.jobName(request)}: HTTP 422: Job.batch`,
    );
    expect(result.reason).toContain(
      'spec.template.spec.containers[0].resources.requests.cpu: Invalid value: "lots": must match format "quantity"',
    );
  });

  it('fails clearly when the namespace does not exist', async () => {
    const other = await SimHarness.start({}, 'nope');
    try {
      const result = await other.start(other.request('true')).result;
      expect(result.reason).toMatch(
        /could not create the Kubernetes Job nope\/chainr-job-1-\w+: namespaces "nope" not found/,
      );
    } finally {
      await other.stop();
    }
  });

  it('fails a job whose Kubernetes Job someone else deleted', async () => {
    const request = h.request('echo started; sleep 30');
    const run = h.start(request);
    await run.logged('started');
    await h.client.batch.deleteNamespacedJob({
      name: h.jobName(request),
      namespace: 'default',
      propagationPolicy: 'Background',
    });
    expect(await run.result).toEqual({
      status: 'FAILED',
      exitCode: null,
      reason: 'the Kubernetes Job was deleted before it finished',
    });
  });

  it('refuses to follow a Job of the same name that belongs to another attempt', async () => {
    const request = h.request('echo mine');
    const impostor = { ...request, uid: '00000000-0000-7000-8000-000000000000' };
    const body = (await import('../src/executors/kubernetes/manifest.ts')).buildJobManifest(
      impostor,
      { namespace: 'default', ttlSecondsAfterFinished: 60 },
    );
    body.metadata = { ...body.metadata, name: h.jobName(request) };
    await h.client.batch.createNamespacedJob({ namespace: 'default', body });
    const result = await h.start(request).result;
    expect(result.reason).toMatch(/exists but belongs to another attempt/);
  });
});

describe('kubernetes executor: RBAC', () => {
  it('names the missing permission when it may not create Jobs', async () => {
    const sim = await SimHarness.start();
    sim.sim.faults.forbid({ verb: 'create', resource: 'jobs' });
    try {
      const result = await sim.start(sim.request('true')).result;
      expect(result.status).toBe('FAILED');
      expect(result.reason).toContain(
        'jobs.batch is forbidden: User "system:serviceaccount:chainr:chainr-worker" cannot create resource "jobs" in API group "batch" in the namespace "default"',
      );
      expect(result.reason).toContain('docs/KUBERNETES.md');
      expect(sim.sim.jobsCreated()).toBe(0);
    } finally {
      await sim.stop();
    }
  });

  it('fails, and removes the Job, when it may not watch pods', async () => {
    const sim = await SimHarness.start();
    sim.sim.faults.forbid({ verb: 'list', resource: 'pods' });
    try {
      const request = sim.request('sleep 5');
      const result = await sim.start(request).result;
      expect(result.reason).toContain(
        'cannot list resource "pods" in API group "" in the namespace "default"',
      );
      expect(sim.sim.store.get('jobs', 'default', sim.jobName(request))).toBeUndefined();
    } finally {
      await sim.stop();
    }
  });

  it('still gives the result when it may not read logs, and says why the log is missing', async () => {
    const sim = await SimHarness.start();
    sim.sim.faults.forbid({ verb: 'get', resource: 'pods', subresource: 'log' });
    try {
      const run = sim.start(sim.request('echo hidden'));
      expect(await run.result).toMatchObject({ status: 'SUCCESSFUL', exitCode: 0 });
      expect(jobLines(run.logs)).toEqual([]);
      expect(notes(run.logs)[0]).toContain('cannot get resource "pods/log"');
    } finally {
      await sim.stop();
    }
  });
});

describe('kubernetes executor: cancel and shutdown', () => {
  it('on cancel, deletes the Job with its pods, and the process stops', async () => {
    const pidFile = join(scratch, 'cancel.pid');
    const request = h.request('echo $$ > "$PIDFILE"; echo started; sleep 30', {
      env: { PIDFILE: pidFile },
    });
    const name = h.jobName(request);
    const run = h.start(request);
    await run.logged('started');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(isRunning(pid)).toBe(true);
    run.controller.abort('canceled');
    expect(await run.result).toEqual({ status: 'FAILED', exitCode: null, reason: 'canceled' });
    expect(jobExists(name)).toBe(false);
    const deletion = h.sim.requests.find((r) => r.verb === 'delete' && r.name === name);
    expect(deletion?.query).toContain('propagationPolicy=Background');
    await until(
      () => podsOf(name).length === 0 && !isRunning(pid),
      'the pod and its process to be gone',
    );
  });

  it('on worker shutdown, leaves the Job running for the next worker', async () => {
    const request = h.request('echo started; sleep 30');
    const name = h.jobName(request);
    const run = h.start(request);
    await run.logged('started');
    run.controller.abort(WORKER_SHUTDOWN_REASON);
    expect(await run.result).toEqual({
      status: 'FAILED',
      exitCode: null,
      reason: WORKER_SHUTDOWN_REASON,
    });
    expect(jobExists(name)).toBe(true);
    expect(podsOf(name)[0]?.status?.phase).toBe('Running');
    expect(existsSync(scratch)).toBe(true);
    await h.client.batch.deleteNamespacedJob({
      name,
      namespace: 'default',
      propagationPolicy: 'Background',
    });
  });
});
