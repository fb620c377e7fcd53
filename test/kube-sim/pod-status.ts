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

export function waiting(
  container: IContainer | undefined,
  startTime: string,
  reason: string,
  message?: string,
): IPodStatus {
  return {
    phase: 'Pending',
    qosClass: 'BestEffort',
    hostIP: '10.0.0.1',
    podIP: '10.244.0.10',
    startTime,
    conditions: [
      ...scheduledConditions(),
      condition('Ready', 'False', 'ContainersNotReady', 'containers with unready status: [job]'),
    ],
    containerStatuses: [
      containerStatus(container, { waiting: { reason, ...(message && { message }) } }, undefined),
    ],
  };
}

export function running(
  container: IContainer | undefined,
  startTime: string,
  pid: number | undefined,
  startedAt: string,
): IPodStatus {
  return {
    ...waiting(container, startTime, ''),
    phase: 'Running',
    conditions: [
      ...scheduledConditions(),
      condition('Ready', 'True'),
      condition('ContainersReady', 'True'),
    ],
    containerStatuses: [
      containerStatus(container, { running: { startedAt } }, { pid, ready: true }),
    ],
  };
}

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

export function terminated(
  container: IContainer | undefined,
  startTime: string,
  pid: number | undefined,
  t: Terminated,
): IPodStatus {
  return {
    ...waiting(container, startTime, ''),
    phase: t.exitCode === 0 ? 'Succeeded' : 'Failed',
    conditions: [
      ...scheduledConditions(),
      condition('Ready', 'False', 'PodCompleted'),
      condition('ContainersReady', 'False', 'PodCompleted'),
    ],
    containerStatuses: [containerStatus(container, terminatedState(t), { pid, ready: false })],
  };
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
  container: IContainer | undefined,
  startTime: string,
  done: IContainerStatus[],
  current: { init: IContainer; pid: number | undefined; startedAt: string } | undefined,
): IPodStatus {
  const unfinished = current ? [current.init.name] : [];
  return {
    ...waiting(container, startTime, 'PodInitializing'),
    conditions: [
      condition('PodScheduled', 'True'),
      condition(
        'Initialized',
        'False',
        'ContainersNotInitialized',
        `containers with incomplete status: [${unfinished.join(' ')}]`,
      ),
      condition('Ready', 'False', 'ContainersNotReady', 'containers with unready status: [job]'),
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
  container: IContainer | undefined,
  startTime: string,
  statuses: IContainerStatus[],
): IPodStatus {
  return { ...initializing(container, startTime, statuses, undefined), phase: 'Failed' };
}
