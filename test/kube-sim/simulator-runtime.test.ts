/**
 * The simulator's cluster side: the Job controller's status and conditions, pods run as real
 * processes with real logs and exit codes, deletion propagation, and the injected faults.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw } from './raw-client.ts';
import { statuses } from './status.ts';
import { KubeSim } from './simulator.ts';
import type { SimJob, SimPod } from './store.ts';

let sim: KubeSim;
beforeAll(async () => {
  sim = await KubeSim.start({ stepMs: 20, killGraceMs: 300 });
});
afterAll(() => sim.stop());

const JOBS = '/apis/batch/v1/namespaces/default/jobs';
const aString: unknown = expect.any(String); // vitest types its matchers `any`
const PODS = '/api/v1/namespaces/default/pods';

async function createJob(
  name: string,
  script: string,
  spec: Record<string, unknown> = {},
  image = 'busybox',
): Promise<void> {
  const res = await raw(sim, 'POST', JOBS, {
    body: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'job', image, command: ['sh', '-c', script] }],
          },
        },
        ...spec,
      },
    },
  });
  expect(res.status, res.text).toBe(201);
}

async function until<T>(get: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const jobOf = (name: string) => sim.store.get('jobs', 'default', name);
const podsOf = (name: string): SimPod[] =>
  sim.store.list('pods', (p) => p.metadata.labels?.['job-name'] === name);
const conditions = (j: SimJob | undefined) =>
  (j?.status?.conditions ?? []).map((c) => `${c.type}:${c.reason}`);
const finished = (name: string) =>
  until(() => {
    const j = jobOf(name);
    return conditions(j).some((c) => /^(Complete|Failed):/.test(c)) ? j : undefined;
  }, `${name} to finish`);

describe('kube-sim: the Job controller and the pods', () => {
  it('completes a Job whose command exits 0, with the conditions of Kubernetes 1.31', async () => {
    await createJob('ok', 'echo out; exit 0');
    const j = await finished('ok');
    expect(conditions(j)).toEqual([
      'SuccessCriteriaMet:CompletionsReached',
      'Complete:CompletionsReached',
    ]);
    expect(j.status).toMatchObject({
      succeeded: 1,
      active: 0,
      completionTime: aString,
      startTime: aString,
    });
    const pod = podsOf('ok')[0];
    expect(pod?.status?.phase).toBe('Succeeded');
    expect(pod?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
  });

  it('fails a Job by its exit code, keeps the termination message, and retries within backoffLimit', async () => {
    await createJob('fail', 'exit 3', { backoffLimit: 1 });
    const j = await finished('fail');
    expect(conditions(j)).toEqual([
      'FailureTarget:BackoffLimitExceeded',
      'Failed:BackoffLimitExceeded',
    ]);
    expect(j.status?.failed).toBe(2);
    const pods = podsOf('fail');
    expect(pods).toHaveLength(2);
    expect(pods[0]?.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: 'Error',
    });
  });

  it('maps the termination message path and emptyDir mounts into the pod sandbox', async () => {
    const res = await raw(sim, 'POST', JOBS, {
      body: {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'paths' },
        spec: {
          backoffLimit: 0,
          template: {
            spec: {
              restartPolicy: 'Never',
              volumes: [{ name: 'work', emptyDir: {} }],
              containers: [
                {
                  name: 'job',
                  image: 'busybox',
                  command: [
                    'sh',
                    '-c',
                    'echo hi > "$DATA/f"; cat "$DATA/f" > "$1"',
                    'sh',
                    '/dev/termination-log',
                  ],
                  env: [{ name: 'DATA', value: '/work' }],
                  volumeMounts: [{ name: 'work', mountPath: '/work' }],
                },
              ],
            },
          },
        },
      },
    });
    expect(res.status).toBe(201);
    await finished('paths');
    expect(podsOf('paths')[0]?.status?.containerStatuses?.[0]?.state?.terminated?.message).toBe(
      'hi\n',
    );
  });

  it('stops a Job at activeDeadlineSeconds: DeadlineExceeded once its pod is gone', async () => {
    await createJob('deadline', 'sleep 30', { activeDeadlineSeconds: 1 });
    const j = await finished('deadline');
    expect(conditions(j)).toEqual(['FailureTarget:DeadlineExceeded', 'Failed:DeadlineExceeded']);
    expect(podsOf('deadline')).toEqual([]);
  });

  it('serves logs: 400 while waiting, then followed to the end with timestamps, and from the second of sinceTime', async () => {
    sim.faults.failImagePull('slow-image');
    await createJob('logs', 'echo one; sleep 0.3; echo two', {}, 'slow-image');
    const pod = await until(() => podsOf('logs')[0]?.metadata.name, 'the pod');
    await until(
      () =>
        podsOf('logs')[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason ===
        'ErrImagePull',
      'ErrImagePull',
    );
    const waiting = await raw(sim, 'GET', `${PODS}/${pod}/log?follow=true`);
    expect(waiting.status).toBe(400);
    expect(waiting.json()).toMatchObject({
      message: `container "job" in pod "${pod}" is waiting to start: trying and failing to pull image`,
    });
    await until(
      () =>
        podsOf('logs')[0]?.status?.containerStatuses?.[0]?.state?.waiting?.reason ===
        'ImagePullBackOff',
      'ImagePullBackOff',
    );
    sim.faults.imagePull.clear();
    await until(() => podsOf('logs')[0]?.status?.phase === 'Running', 'Running');
    const followed = await raw(sim, 'GET', `${PODS}/${pod}/log?follow=true&timestamps=true`);
    const lines = followed.text.trimEnd().split('\n');
    expect(lines.map((l) => l.split(' ')[1])).toEqual(['one', 'two']);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z one$/);
    // sinceTime is honoured to the second, as the API server forwards it: the fraction (here
    // after the stamp of `two`) is dropped, and every line of that second or later comes.
    const second = lines[1]?.slice(0, 19) ?? '';
    const fromSecond = lines.filter((l) => l.slice(0, 19) >= second).map((l) => l.split(' ')[1]);
    const since = await raw(sim, 'GET', `${PODS}/${pod}/log?sinceTime=${second}.999999999Z`);
    expect(since.text).toBe(fromSecond.map((l) => `${l}\n`).join(''));
    expect((await raw(sim, 'GET', `${PODS}/${pod}/log?container=other`)).status).toBe(400);
  });
});

describe('kube-sim: a pod of several containers', () => {
  it('runs them side by side, lists their statuses by name, ends the pod when all have, and serves each log by name', async () => {
    await createJob('pair', 'unused', {
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'zeta', image: 'busybox', command: ['sh', '-c', 'echo first; exit 0'] },
            {
              name: 'alpha',
              image: 'busybox',
              command: ['sh', '-c', 'sleep 0.5; echo second; exit 3'],
            },
          ],
        },
      },
    });
    // zeta has ended while alpha runs: the pod is Running, and not ready.
    await until(
      () =>
        podsOf('pair')[0]?.status?.containerStatuses?.find((c) => c.name === 'zeta')?.state
          ?.terminated,
      'zeta to end',
    );
    const running = podsOf('pair')[0]?.status;
    expect(running?.phase).toBe('Running');
    expect(running?.containerStatuses?.map((c) => c.name)).toEqual(['alpha', 'zeta']);
    expect(running?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      message: 'containers with unready status: [zeta]',
    });
    const j = await finished('pair');
    expect(conditions(j)).toContain('Failed:BackoffLimitExceeded');
    const pod = podsOf('pair')[0];
    expect(pod?.status?.phase).toBe('Failed');
    expect(pod?.status?.containerStatuses?.map((c) => c.state?.terminated?.exitCode)).toEqual([
      3, 0,
    ]);
    const name = pod?.metadata.name ?? '';
    const unnamed = await raw(sim, 'GET', `${PODS}/${name}/log`);
    expect(unnamed.status).toBe(400);
    expect(unnamed.json()).toMatchObject({
      message: `a container name must be specified for pod ${name}, choose one of: [zeta alpha]`,
    });
    expect((await raw(sim, 'GET', `${PODS}/${name}/log?container=zeta`)).text).toBe('first\n');
    expect((await raw(sim, 'GET', `${PODS}/${name}/log?container=alpha`)).text).toBe('second\n');
  });
});

describe('kube-sim: deletion and faults', () => {
  it.each([
    ['Background', 200, 0],
    ['Orphan', 200, 1],
    ['Foreground', 202, 0],
  ])('deletes with %s propagation', async (policy, code, podsLeft) => {
    const name = `del-${policy.toLowerCase()}`;
    await createJob(name, 'sleep 30');
    await until(() => podsOf(name)[0]?.status?.phase === 'Running', 'Running');
    const res = await raw(sim, 'DELETE', `${JOBS}/${name}?propagationPolicy=${policy}`);
    expect(res.status).toBe(code);
    await until(() => !jobOf(name), 'the Job to go');
    await until(() => podsOf(name).length === podsLeft, `${podsLeft} pods`);
    if (podsLeft) expect(podsOf(name)[0]?.metadata.ownerReferences).toBeUndefined();
  });

  it("refuses what RBAC forbids with the authorizer's words, and serves injected errors", async () => {
    sim.faults.forbid({ verb: 'watch', resource: 'pods' });
    sim.faults.inject(
      { verb: 'list', resource: 'jobs' },
      { status: statuses.unavailable('apiserver is shutting down') },
    );
    try {
      expect((await raw(sim, 'GET', `${PODS}?watch=true`)).json()).toMatchObject({
        code: 403,
        message:
          'pods is forbidden: User "system:serviceaccount:chainr:chainr-worker" cannot watch resource "pods" in API group "" in the namespace "default"',
      });
      expect((await raw(sim, 'GET', JOBS)).status).toBe(503);
      expect((await raw(sim, 'GET', JOBS)).status).toBe(200); // once
    } finally {
      sim.faults.clear();
    }
  });

  it("leaves a pod Pending with the scheduler's reason while unschedulable", async () => {
    sim.faults.makeUnschedulable(() => true, '0/1 nodes are available: 1 Insufficient memory.');
    try {
      await createJob('pending', 'true');
      const condition = await until(
        () => podsOf('pending')[0]?.status?.conditions?.[0],
        'a condition',
      );
      expect(condition).toMatchObject({
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message: '0/1 nodes are available: 1 Insufficient memory.',
      });
    } finally {
      sim.faults.clear();
    }
    await finished('pending');
  });

  it('keeps its state across an API server restart, refusing connections while down', async () => {
    await createJob('survivor', 'sleep 0.5');
    const restarting = sim.restart({ downMs: 400 });
    await new Promise((r) => setTimeout(r, 100));
    await expect(raw(sim, 'GET', JOBS)).rejects.toThrow(/ECONNREFUSED/);
    await restarting;
    expect((await raw(sim, 'GET', `${JOBS}/survivor`)).status).toBe(200);
    await finished('survivor');
  });
});
