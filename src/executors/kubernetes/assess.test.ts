import type { V1ContainerState, V1Job, V1Pod, V1PodCondition } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { assess, formatDuration, mergeProblem } from './assess.ts';

const request = { image: 'busybox:1.36', attempt: 1, timeoutMs: 90_000 };

function job(...conditions: [type: string, reason: string, message?: string][]): V1Job {
  return {
    spec: { template: {}, activeDeadlineSeconds: 90 },
    status: {
      conditions: conditions.map(([type, reason, message]) => ({
        type,
        status: 'True',
        reason,
        message,
      })),
    },
  };
}

function pod(
  name: string,
  state?: V1ContainerState,
  extra: {
    conditions?: V1PodCondition[];
    reason?: string;
    message?: string;
    created?: string;
  } = {},
): V1Pod {
  return {
    metadata: { name, creationTimestamp: new Date(extra.created ?? '2024-05-01T00:00:00Z') },
    status: {
      ...(extra.reason && { phase: 'Failed' }),
      ...(extra.conditions && { conditions: extra.conditions }),
      ...(extra.reason && { reason: extra.reason, message: extra.message }),
      ...(state && {
        containerStatuses: [
          { name: 'job', image: 'busybox', imageID: '', ready: false, restartCount: 0, state },
        ],
      }),
    },
  };
}

const deleting = (p: V1Pod): V1Pod => ({
  ...p,
  metadata: { ...p.metadata, deletionTimestamp: new Date('2024-05-01T00:01:00Z') },
});

const terminated = (
  exitCode: number,
  reason = exitCode === 0 ? 'Completed' : 'Error',
  message?: string,
) => ({
  terminated: { exitCode, reason, ...(message !== undefined && { message }) },
});

describe('assess', () => {
  it.each<[string, V1Job | undefined, V1Pod[], ReturnType<typeof assess>]>([
    ['a Job just created, no pod yet', job(), [], {}],
    [
      'a pod waiting for its container',
      job(),
      [pod('p', { waiting: { reason: 'ContainerCreating' } })],
      {},
    ],
    ['a running container: stream its log', job(), [pod('p', { running: {} })], { logPod: 'p' }],
    [
      'a Job complete: success with the outputs of the termination message',
      job(['SuccessCriteriaMet', 'CompletionsReached'], ['Complete', 'CompletionsReached']),
      [pod('p', terminated(0, 'Completed', 'tag=v1\nurl=a=b\n'))],
      {
        logPod: 'p',
        result: {
          status: 'SUCCESSFUL',
          exitCode: 0,
          reason: '',
          outputs: { tag: 'v1', url: 'a=b' },
        },
      },
    ],
    [
      'a Job complete whose outputs were too large',
      job(['Complete', 'CompletionsReached']),
      [pod('p', terminated(0, 'Completed', '!outputs-too-large 5000'))],
      {
        logPod: 'p',
        result: {
          status: 'FAILED',
          exitCode: 0,
          reason: 'outputs are 5000 bytes, more than the limit of 4096',
        },
      },
    ],
    [
      'a Job failed by the exit code of its container',
      job(['FailureTarget', 'BackoffLimitExceeded'], ['Failed', 'BackoffLimitExceeded']),
      [pod('p', terminated(3))],
      { logPod: 'p', result: { status: 'FAILED', exitCode: 3, reason: 'exit code 3' } },
    ],
    [
      'a container ended by itself, before the Job controller says so: its exit is the result',
      job(),
      [pod('p', terminated(0, 'Completed', 'tag=v1\n'))],
      {
        logPod: 'p',
        result: { status: 'SUCCESSFUL', exitCode: 0, reason: '', outputs: { tag: 'v1' } },
      },
    ],
    [
      'a container failed by itself, before the Job controller says so',
      job(),
      [pod('p', terminated(3))],
      { logPod: 'p', result: { status: 'FAILED', exitCode: 3, reason: 'exit code 3' } },
    ],
    [
      'a container ended by its pod’s deletion (a deadline, a cancel): the Job’s word is awaited',
      job(),
      [deleting(pod('p', terminated(143)))],
      { logPod: 'p' },
    ],
    [
      'a container killed for memory',
      job(['Failed', 'BackoffLimitExceeded']),
      [pod('p', terminated(137, 'OOMKilled'))],
      {
        logPod: 'p',
        result: {
          status: 'FAILED',
          exitCode: null,
          reason: 'OOMKilled: the container exceeded its memory limit (exit code 137)',
        },
      },
    ],
    [
      'a Job past its deadline: the pipeline timeout, whatever the pod reports',
      job(['Failed', 'DeadlineExceeded', 'Job was active longer than specified deadline']),
      [pod('p', { running: {} })],
      {
        logPod: 'p',
        result: { status: 'FAILED', exitCode: null, reason: 'timed out after 1m30s' },
      },
    ],
    [
      'an evicted pod',
      job(['Failed', 'BackoffLimitExceeded']),
      [
        pod('p', undefined, {
          reason: 'Evicted',
          message: 'The node was low on resource: memory.',
        }),
      ],
      {
        result: {
          status: 'FAILED',
          exitCode: null,
          reason: 'pod Evicted: The node was low on resource: memory.',
        },
      },
    ],
    [
      'a Job deleted by someone else',
      undefined,
      [],
      {
        result: {
          status: 'FAILED',
          exitCode: null,
          reason: 'the Kubernetes Job was deleted before it finished',
        },
      },
    ],
  ])('%s', (_name, j, pods, expected) => {
    expect(assess(j, pods, request)).toEqual(expected);
  });

  it('waits for the pod to report how it ended when the Job is seen finished first', () => {
    const a = assess(job(['Complete', 'CompletionsReached']), [pod('p', { running: {} })], request);
    expect(a.podReportPending).toBe(true);
    expect(a.result?.status).toBe('SUCCESSFUL');
  });

  it('waits for the pod itself when the Job is seen finished before it (its log is read then)', () => {
    const a = assess(job(['Complete', 'CompletionsReached']), [], request);
    expect(a.podReportPending).toBe(true);
    expect(a.logPod).toBeUndefined();
  });

  it('follows the newest pod', () => {
    const pods = [
      pod('new', { running: {} }, { created: '2024-05-01T00:00:10Z' }),
      pod('old', terminated(1), { created: '2024-05-01T00:00:00Z' }),
    ];
    expect(assess(job(), pods, request).logPod).toBe('new');
  });

  it('says why a pod is pending', () => {
    const unschedulable = pod('p', undefined, {
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: '0/3 nodes are available: 3 Insufficient cpu.',
        },
      ],
    });
    expect(assess(job(), [unschedulable], request).pending).toEqual({
      kind: 'unschedulable',
      reason: 'Unschedulable',
      message: 'the pod cannot be scheduled: 0/3 nodes are available: 3 Insufficient cpu.',
    });
    const pull = pod('p', { waiting: { reason: 'ErrImagePull', message: 'pull access denied' } });
    expect(assess(job(), [pull], request).pending).toEqual({
      kind: 'image',
      reason: 'ErrImagePull',
      message: 'the image "busybox:1.36" cannot be pulled: ErrImagePull: pull access denied',
    });
    const secret = pod('p', {
      waiting: { reason: 'CreateContainerConfigError', message: 'secret "x" not found' },
    });
    expect(assess(job(), [secret], request).pending?.kind).toBe('container-config');
  });

  it("keeps the kubelet's pull error over the uninformative back-off message", () => {
    const pulled = { kind: 'image' as const, reason: 'ErrImagePull', message: 'why' };
    const backoff = {
      kind: 'image' as const,
      reason: 'ImagePullBackOff',
      message: 'Back-off pulling image',
    };
    expect(mergeProblem(pulled, backoff)).toBe(pulled);
    expect(mergeProblem(undefined, backoff)).toBe(backoff);
  });
});

describe('formatDuration', () => {
  it('writes milliseconds as a pipeline duration', () => {
    expect([1000, 90_000, 3_600_000, 5_430_000, 1500, 0].map(formatDuration)).toEqual([
      '1s',
      '1m30s',
      '1h',
      '1h30m30s',
      '1500ms',
      '0s',
    ]);
  });
});

describe('assess, with artifacts stored by the pod', () => {
  const produces = [
    { name: 'app', path: 'app.bin' },
    { name: 'site', path: 'site' },
  ];
  const storing = { ...request, produces };
  const sha = 'ab'.repeat(32);
  /** The kubelet lists a pod's containers sorted by name: chainr-outputs before job. */
  const podOf = (jobState: V1ContainerState, outputsState: V1ContainerState): V1Pod => ({
    metadata: { name: 'p', creationTimestamp: new Date('2024-05-01T00:00:00Z') },
    status: {
      containerStatuses: [
        {
          name: 'chainr-outputs',
          image: 'chainr',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: outputsState,
        },
        {
          name: 'job',
          image: 'busybox',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: jobState,
        },
      ],
    },
  });

  it('waits for the artifacts to be stored once the job has succeeded, streaming its log', () => {
    expect(assess(job(), [podOf(terminated(0), { running: {} })], storing)).toEqual({
      logPod: 'p',
    });
  });

  it('succeeds with the records the outputs container reported, named in declared order', () => {
    const message = `f 7 ${sha}\nd 10240 ${sha}\n`;
    expect(
      assess(job(), [podOf(terminated(0), terminated(0, 'Completed', message))], storing),
    ).toEqual({
      logPod: 'p',
      result: {
        status: 'SUCCESSFUL',
        exitCode: 0,
        reason: '',
        artifacts: [
          { name: 'app', kind: 'file', size: 7, sha256: sha, attempt: 1 },
          { name: 'site', kind: 'directory', size: 10240, sha256: sha, attempt: 1 },
        ],
      },
    });
  });

  it('fails with the reason the outputs container gave', () => {
    const reason = 'artifact "site": site does not exist';
    const a = assess(job(), [podOf(terminated(0), terminated(1, 'Error', reason))], storing);
    expect(a.result).toEqual({ status: 'FAILED', exitCode: 0, reason });
  });

  it('fails a failed job at once, for its exit code, and has its pod stopped', () => {
    const a = assess(job(), [podOf(terminated(2), { running: {} })], storing);
    expect(a.result).toEqual({ status: 'FAILED', exitCode: 2, reason: 'exit code 2' });
    expect(a.stopPod).toBe(true);
  });

  it('says when the inputs could not be placed', () => {
    const p = podOf(
      { waiting: { reason: 'PodInitializing' } },
      { waiting: { reason: 'PodInitializing' } },
    );
    p.status = {
      ...p.status,
      phase: 'Failed',
      initContainerStatuses: [
        {
          name: 'chainr-inputs',
          image: 'chainr',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: terminated(1, 'Error', 'no artifact "rows" of extract (attempt 1) of run u'),
        },
      ],
    };
    expect(assess(job(['Failed', 'BackoffLimitExceeded']), [p], storing).result).toEqual({
      status: 'FAILED',
      exitCode: null,
      reason:
        'its input artifacts could not be placed: no artifact "rows" of extract (attempt 1) of run u',
    });
  });
});
