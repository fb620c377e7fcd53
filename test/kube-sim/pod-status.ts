/** A pod's status at each step of its life, as the scheduler and kubelet report it. Pure. */
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IContainerState } from 'kubernetes-models/v1/ContainerState';
import type { IContainerStatus } from 'kubernetes-models/v1/ContainerStatus';
import type { IPodCondition } from 'kubernetes-models/v1/PodCondition';
import type { IPodStatus } from 'kubernetes-models/v1/PodStatus';
import { apiTime } from './store.ts';

export interface Terminated {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
}

function condition(
  type: string,
  status: 'True' | 'False',
  reason?: string,
  message?: string,
): IPodCondition {
  return {
    type,
    status,
    lastProbeTime: null as unknown as string, // the API server sends null here
    lastTransitionTime: apiTime(),
    ...(reason && { reason }),
    ...(message && { message }),
  };
}

function containerStatus(
  container: IContainer | undefined,
  state: IContainerState,
  running: { pid?: number; ready: boolean } | undefined,
): IContainerStatus {
  const image = container?.image ?? '';
  return {
    name: container?.name ?? '',
    image,
    imageID: running ? `sim://${image}` : '',
    ...(running?.pid !== undefined && { containerID: `sim://${running.pid}` }),
    ready: running?.ready ?? false,
    started: running?.ready ?? false,
    restartCount: 0,
    state,
  };
}

const scheduledConditions = () => [
  condition('PodScheduled', 'True'),
  condition('Initialized', 'True'),
  condition('PodReadyToStartContainers', 'True'),
];

export function unschedulable(message: string): IPodStatus {
  return {
    phase: 'Pending',
    qosClass: 'BestEffort',
    conditions: [condition('PodScheduled', 'False', 'Unschedulable', message)],
  };
}

/** Where one of the pod's containers stands. */
export type ContainerRun =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; pid: number | undefined; startedAt: string }
  | { kind: 'terminated'; pid: number | undefined; result: Terminated };

/** A container's state once it has ended, finished now. */
function terminatedState(t: Terminated) {
  return {
    terminated: {
      exitCode: t.exitCode,
      reason: t.reason,
      ...(t.message && { message: t.message }),
      startedAt: t.startedAt ?? apiTime(),
      finishedAt: apiTime(),
    },
  };
}

function statusOf(container: IContainer, run: ContainerRun): IContainerStatus {
  if (run.kind === 'waiting')
    return containerStatus(
      container,
      { waiting: { reason: run.reason, ...(run.message && { message: run.message }) } },
      undefined,
    );
  if (run.kind === 'running')
    return containerStatus(
      container,
      { running: { startedAt: run.startedAt } },
      { pid: run.pid, ready: true },
    );
  return containerStatus(container, terminatedState(run.result), { pid: run.pid, ready: false });
}

/**
 * The pod's status from where each of its containers stands, as the kubelet reports it: the
 * statuses sorted by container name (not in the spec's order); the phase Pending while one has
 * not started, Running while one runs, then Succeeded when all exited 0, else Failed
 * (restartPolicy Never); Ready only while all run.
 */
export function podStatus(
  containers: IContainer[],
  startTime: string,
  runs: ReadonlyMap<string, ContainerRun>,
): IPodStatus {
  const states = containers.map((c) => [c, runs.get(c.name) ?? WAITING] as const);
  const count = (kind: ContainerRun['kind']) => states.filter(([, r]) => r.kind === kind).length;
  const unready = states.filter(([, r]) => r.kind !== 'running').map(([c]) => c.name);
  const ended = count('terminated') === states.length;
  const phase =
    count('waiting') > 0
      ? 'Pending'
      : count('running') > 0
        ? 'Running'
        : states.every(([, r]) => r.kind === 'terminated' && r.result.exitCode === 0)
          ? 'Succeeded'
          : 'Failed';
  const readiness = ended
    ? [
        condition('Ready', 'False', 'PodCompleted'),
        condition('ContainersReady', 'False', 'PodCompleted'),
      ]
    : unready.length > 0
      ? [
          condition(
            'Ready',
            'False',
            'ContainersNotReady',
            `containers with unready status: [${unready.join(' ')}]`,
          ),
          condition(
            'ContainersReady',
            'False',
            'ContainersNotReady',
            `containers with unready status: [${unready.join(' ')}]`,
          ),
        ]
      : [condition('Ready', 'True'), condition('ContainersReady', 'True')];
  return {
    phase,
    qosClass: 'BestEffort',
    hostIP: '10.0.0.1',
    podIP: '10.244.0.10',
    startTime,
    conditions: [...scheduledConditions(), ...readiness],
    containerStatuses: states
      .map(([c, r]) => statusOf(c, r))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

const WAITING: ContainerRun = { kind: 'waiting', reason: 'ContainerCreating' };

/** Every container waiting for the same reason (being created, its image being pulled...). */
export function waiting(
  containers: IContainer[],
  startTime: string,
  reason: string,
  message?: string,
): IPodStatus {
  const run: ContainerRun = { kind: 'waiting', reason, ...(message && { message }) };
  return podStatus(containers, startTime, new Map(containers.map((c) => [c.name, run])));
}

/** An init container's status once it has run (kept in the pod's status from then on). */
export function initTerminated(init: IContainer, pid: number | undefined, t: Terminated) {
  return containerStatus(init, terminatedState(t), { pid, ready: t.exitCode === 0 });
}

/**
 * While the init containers run: the pod is Pending and not Initialized, its container waits
 * (PodInitializing). `done` are the init containers that ended, `current` the one running.
 */
export function initializing(
  containers: IContainer[],
  startTime: string,
  done: IContainerStatus[],
  current: { init: IContainer; pid: number | undefined; startedAt: string } | undefined,
): IPodStatus {
  const unfinished = current ? [current.init.name] : [];
  return {
    ...waiting(containers, startTime, 'PodInitializing'),
    conditions: [
      condition('PodScheduled', 'True'),
      condition(
        'Initialized',
        'False',
        'ContainersNotInitialized',
        `containers with incomplete status: [${unfinished.join(' ')}]`,
      ),
      condition(
        'Ready',
        'False',
        'ContainersNotReady',
        `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`,
      ),
    ],
    initContainerStatuses: [
      ...done,
      ...(current
        ? [
            containerStatus(
              current.init,
              { running: { startedAt: current.startedAt } },
              { pid: current.pid, ready: false },
            ),
          ]
        : []),
    ],
  };
}

/** An init container failed (restartPolicy Never): the pod fails, its container never starts. */
export function initFailed(
  containers: IContainer[],
  startTime: string,
  statuses: IContainerStatus[],
): IPodStatus {
  return { ...initializing(containers, startTime, statuses, undefined), phase: 'Failed' };
}
