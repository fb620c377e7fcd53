/**
 * What the observed Job and its pods say about the attempt: still pending (and why), which pod's
 * log to stream, or the result (from the Job's condition, or from its pod's container once it has
 * ended by itself, whichever is seen first). Pure: the executor feeds it every change it watches.
 */
import type {
  V1ContainerStateTerminated,
  V1ContainerStatus,
  V1Job,
  V1Pod,
} from '@kubernetes/client-node';
import type { ArtifactSpec } from '../../core/artifacts.ts';
import { parseOutputs } from '../../core/outputs.ts';
import type { ExecutionResult } from '../executor.ts';
import { CONTAINER_NAME, MAX_OUTPUTS_BYTES, OUTPUTS_TOO_LARGE } from './manifest.ts';
import { INPUTS_CONTAINER, OUTPUTS_CONTAINER, parseRecords } from './pod-artifacts.ts';

export interface PendingProblem {
  /** Each kind has its own grace period before the attempt fails. */
  kind: 'image' | 'unschedulable' | 'container-config';
  /** The waiting reason or condition reason Kubernetes reported. */
  reason: string;
  message: string;
}

export interface Assessment {
  /** The pod whose log to stream, once its container has started. */
  logPod?: string;
  /** Why the pod does not run yet. */
  pending?: PendingProblem;
  result?: ExecutionResult;
  /** The result is known from the Job, but its pod has not reported how it ended yet. */
  podReportPending?: boolean;
  /**
   * The job failed while its pod's chainr-outputs container still waits for it: the Job is to be
   * deleted, or that container would wait on if the job's wrapper could not write its marker.
   */
  stopPod?: boolean;
}

const IMAGE_REASONS = ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull'];
const CONFIG_REASONS = ['CreateContainerConfigError', 'CreateContainerError'];

/** `90000` → `1m30s`, `1500` → `1500ms`: how a timeout is written in pipelines. */
export function formatDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  const s = ms / 1000;
  const parts = [
    [Math.floor(s / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ] as const;
  return parts.map(([n, unit]) => (n > 0 ? `${n}${unit}` : '')).join('') || '0s';
}

/** What the attempt asked of its pod. */
export interface AssessedRequest {
  image: string;
  attempt: number;
  timeoutMs?: number;
  /** The artifacts the job declares: stored by the pod's chainr-outputs container. */
  produces?: readonly ArtifactSpec[];
}

/**
 * A container's status, by name: the kubelet lists a pod's containers sorted by name, not in
 * the order of its spec.
 */
export function containerStatus(pod: V1Pod | undefined, name: string) {
  return pod?.status?.containerStatuses?.find((s) => s.name === name);
}

const isTrue = (job: V1Job, type: string) =>
  job.status?.conditions?.find((c) => c.type === type && c.status === 'True');

/** The attempt's pod: the newest one (a Job with backoffLimit 0 has one, unless replaced). */
function currentPod(pods: V1Pod[]): V1Pod | undefined {
  // Watched objects carry times as strings, listed ones as Dates: Date() reads both.
  const created = (p: V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
  return [...pods].sort((a, b) => created(a) - created(b)).at(-1);
}

function outputsOf(terminated: V1ContainerStateTerminated | undefined) {
  const message = terminated?.message ?? '';
  if (message.startsWith(OUTPUTS_TOO_LARGE)) {
    const size = message.slice(OUTPUTS_TOO_LARGE.length);
    return {
      ok: false as const,
      error: `outputs are ${size} bytes, more than the limit of ${MAX_OUTPUTS_BYTES}`,
    };
  }
  return parseOutputs(message);
}

/** Why the chainr-outputs container failed: its message says it (pod-transfer.ts). */
function storeFailure(stored: V1ContainerStatus): string {
  const t = stored.state?.terminated;
  return (
    t?.message?.trim() ||
    `the container ${stored.name} (image "${stored.image}") failed with exit code ${t?.exitCode}${t?.reason ? ` (${t.reason})` : ''}`
  );
}

function succeeded(pod: V1Pod | undefined, request: AssessedRequest): ExecutionResult {
  const outputs = outputsOf(containerStatus(pod, CONTAINER_NAME)?.state?.terminated);
  if (!outputs.ok) return { status: 'FAILED', exitCode: 0, reason: outputs.error };
  const found = Object.keys(outputs.outputs).length > 0;
  const result: ExecutionResult = {
    status: 'SUCCESSFUL',
    exitCode: 0,
    reason: '',
    ...(found && { outputs: outputs.outputs }),
  };
  const produces = request.produces ?? [];
  if (produces.length === 0) return result;
  const stored = containerStatus(pod, OUTPUTS_CONTAINER);
  const terminated = stored?.state?.terminated;
  if (!stored || !terminated)
    return { status: 'FAILED', exitCode: 0, reason: `the pod did not report its stored artifacts` };
  if (terminated.exitCode !== 0)
    return { status: 'FAILED', exitCode: 0, reason: storeFailure(stored) };
  const artifacts = parseRecords(terminated.message ?? '', produces, request.attempt);
  if (!artifacts)
    return {
      status: 'FAILED',
      exitCode: 0,
      reason: `the container ${OUTPUTS_CONTAINER} reported no records of the artifacts it stored: ${JSON.stringify(terminated.message ?? '')}`,
    };
  return { ...result, artifacts };
}

function failed(
  job: V1Job,
  pod: V1Pod | undefined,
  timeoutMs: number | undefined,
): ExecutionResult {
  const condition = isTrue(job, 'Failed');
  if (condition?.reason === 'DeadlineExceeded') {
    const ms = timeoutMs ?? (job.spec?.activeDeadlineSeconds ?? 0) * 1000;
    return { status: 'FAILED', exitCode: null, reason: `timed out after ${formatDuration(ms)}` };
  }
  // chainr-exec's init container (manifest.ts) failed: the job's container never started.
  const init = pod?.status?.initContainerStatuses?.find(
    (s) => (s.state?.terminated?.exitCode ?? 0) !== 0,
  );
  // As the other executors say it (artifact-steps.ts).
  if (init?.name === INPUTS_CONTAINER)
    return {
      status: 'FAILED',
      exitCode: null,
      reason: `its input artifacts could not be placed: ${init.state?.terminated?.message?.trim() || `exit code ${init.state?.terminated?.exitCode}`}`,
    };
  if (init)
    return {
      status: 'FAILED',
      exitCode: null,
      reason:
        `the init container ${init.name} (image "${init.image}") failed with exit code ${init.state?.terminated?.exitCode}` +
        (init.state?.terminated?.message ? `: ${init.state.terminated.message}` : ''),
    };
  const terminated = containerStatus(pod, CONTAINER_NAME)?.state?.terminated;
  if (terminated?.reason === 'OOMKilled')
    return {
      status: 'FAILED',
      exitCode: null,
      reason: `OOMKilled: the container exceeded its memory limit (exit code ${terminated.exitCode})`,
    };
  if (terminated?.reason === 'StartError' || terminated?.reason === 'ContainerCannotRun')
    return {
      status: 'FAILED',
      exitCode: null,
      reason: `could not start: ${terminated.message ?? terminated.reason}`,
    };
  if (terminated && terminated.exitCode !== 0)
    return {
      status: 'FAILED',
      exitCode: terminated.exitCode,
      reason: `exit code ${terminated.exitCode}`,
    };
  const stored = containerStatus(pod, OUTPUTS_CONTAINER);
  if (terminated && (stored?.state?.terminated?.exitCode ?? 0) !== 0 && stored)
    return { status: 'FAILED', exitCode: 0, reason: storeFailure(stored) };
  if (pod?.status?.reason)
    return {
      status: 'FAILED',
      exitCode: null,
      reason: `pod ${pod.status.reason}: ${pod.status.message ?? ''}`.trim(),
    };
  return {
    status: 'FAILED',
    exitCode: null,
    reason: `Kubernetes Job failed: ${condition?.reason ?? 'unknown reason'}${condition?.message ? `: ${condition.message}` : ''}`,
  };
}

function pendingProblem(pod: V1Pod, image: string): PendingProblem | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
    return {
      kind: 'unschedulable',
      reason: scheduled.reason,
      message: `the pod cannot be scheduled: ${scheduled.message ?? scheduled.reason}`,
    };
  // An init container (chainr-exec's, from chainr's image) waits before the job's container.
  const initWaiting = pod.status?.initContainerStatuses?.find((s) =>
    IMAGE_REASONS.includes(s.state?.waiting?.reason ?? ''),
  );
  const waiting =
    initWaiting?.state?.waiting ?? containerStatus(pod, CONTAINER_NAME)?.state?.waiting;
  const reason = waiting?.reason ?? '';
  if (IMAGE_REASONS.includes(reason))
    return {
      kind: 'image',
      reason,
      message:
        `the image "${initWaiting?.image ?? image}" cannot be pulled: ${reason}: ${waiting?.message ?? ''}`.trim(),
    };
  if (CONFIG_REASONS.includes(reason))
    return {
      kind: 'container-config',
      reason,
      message: `the container cannot be created: ${reason}: ${waiting?.message ?? ''}`.trim(),
    };
  return undefined;
}

/**
 * `job` undefined means the Job no longer exists: someone deleted it before it finished.
 * `timeoutMs` words a DeadlineExceeded failure as the pipeline's timeout.
 */
export function assess(
  job: V1Job | undefined,
  pods: V1Pod[],
  request: AssessedRequest,
): Assessment {
  const pod = currentPod(pods);
  const state = containerStatus(pod, CONTAINER_NAME)?.state;
  // A job that declares artifacts has ended once they are stored too (or could not be).
  const storing =
    (request.produces?.length ?? 0) > 0 &&
    !containerStatus(pod, OUTPUTS_CONTAINER)?.state?.terminated;
  const logPod = state?.running || state?.terminated ? pod?.metadata?.name : undefined;
  const withLog = logPod === undefined ? {} : { logPod };
  if (!job)
    return {
      ...withLog,
      result: {
        status: 'FAILED',
        exitCode: null,
        reason: 'the Kubernetes Job was deleted before it finished',
      },
    };
  const complete = isTrue(job, 'Complete');
  const failure = isTrue(job, 'Failed');
  if (complete || failure) {
    // The Job and its pod are watched apart: the pod's last report (exit code, termination
    // message), or the pod itself, may arrive after the Job's. The result waits for it, unless
    // it cannot come; the log is read only once the pod is seen.
    const phase = pod?.status?.phase;
    const reported =
      (Boolean(state?.terminated) && !storing) ||
      phase === 'Succeeded' ||
      phase === 'Failed' ||
      failure?.reason === 'DeadlineExceeded';
    const result = complete ? succeeded(pod, request) : failed(job, pod, request.timeoutMs);
    return { ...withLog, result, ...(!reported && { podReportPending: true }) };
  }
  // The Job runs its pod once (backoffLimit 0, restartPolicy Never): a container that ended by
  // itself decides the attempt, and its pod says how before the Job controller does (a real one
  // batches pod updates for about a second). A pod being deleted (a deadline, a cancel) waits
  // for the Job's word.
  // A failed job stores nothing: its result does not wait for chainr-outputs.
  const failedJob = state?.terminated !== undefined && state.terminated.exitCode !== 0;
  if (state?.terminated && !pod?.metadata?.deletionTimestamp && (failedJob || !storing))
    return {
      ...withLog,
      result: failedJob ? failed(job, pod, request.timeoutMs) : succeeded(pod, request),
      ...(failedJob && storing && { stopPod: true }),
    };
  const pending = pod && !logPod ? pendingProblem(pod, request.image) : undefined;
  return { ...withLog, ...(pending && { pending }) };
}

/**
 * The problem to show: ImagePullBackOff says only "Back-off pulling image", so the kubelet's
 * ErrImagePull message seen before is kept, since it says why.
 */
export function mergeProblem(
  previous: PendingProblem | undefined,
  next: PendingProblem,
): PendingProblem {
  if (
    next.reason === 'ImagePullBackOff' &&
    previous?.kind === 'image' &&
    previous.reason === 'ErrImagePull'
  )
    return previous;
  return next;
}
