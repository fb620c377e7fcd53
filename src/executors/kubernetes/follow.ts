/**
 * Follows one attempt's Job to its end: watches the Job and its pods (reflector.ts), streams the
 * pod's log (pod-log.ts), shows why the pod is pending, fails the attempt when an image cannot be
 * pulled or the pod cannot be scheduled for longer than the grace period, and returns the result
 * the Job and its pod report (assess.ts). Whether to delete the Job is the caller's decision.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { ExecutionIO, ExecutionRequest, ExecutionResult } from '../executor.ts';
import { assess, mergeProblem, type PendingProblem } from './assess.ts';
import { sleep, type Backoff } from './backoff.ts';
import type { KubernetesClient } from './client.ts';
import type { ApiFailure } from './errors.ts';
import { formatPosition, type PodLogPosition } from './log-cursor.ts';
import { CONTAINER_NAME } from './manifest.ts';
import { attemptLabels, selectorOf } from './naming.ts';
import { followPodLog } from './pod-log.ts';
import { reflect } from './reflector.ts';

export interface Timing {
  /** How long an image may fail to pull (or a container fail to be created) before the attempt fails. */
  imagePullGraceMs: number;
  /** How long the pod may stay unschedulable before the attempt fails. */
  unschedulableGraceMs: number;
  backoff: Backoff;
  watchTimeoutSeconds: number;
  /** After the result, how long to wait for the rest of the log. */
  logDrainMs: number;
}

export interface WarnLogger {
  warn(fields: object, message: string): void;
}

export type FollowOutcome =
  | { kind: 'result'; result: ExecutionResult; abandon: boolean }
  | { kind: 'aborted'; reason: unknown };

export interface FollowOptions {
  client: KubernetesClient;
  name: string;
  request: ExecutionRequest;
  io: ExecutionIO;
  timing: Timing;
  /** Where the attempt's recorded log ends (re-attaching): the pod's log is read on from there. */
  resume?: PodLogPosition;
  instance?: string;
  logger?: WarnLogger;
}

const note = (io: ExecutionIO, text: string) => io.onLog(`chainr: ${text}`, 'stderr');

export async function followAttempt(o: FollowOptions): Promise<FollowOutcome> {
  const { client, name, request, io, timing } = o;
  const watching = new AbortController();
  const seen: { job?: V1Job; jobListed: boolean; pods: V1Pod[]; podsListed: boolean } = {
    jobListed: false,
    pods: [],
    podsListed: false,
  };
  let log: { done: Promise<void>; stop: AbortController } | undefined;
  let problem: PendingProblem | undefined;
  let problemSince = 0;
  let graceTimer: NodeJS.Timeout | undefined;
  let podReportTimer: NodeJS.Timeout | undefined;
  let settled = false;
  let settle: (outcome: FollowOutcome) => void = () => undefined;
  const outcome = new Promise<FollowOutcome>((resolve) => (settle = resolve));
  const finish = (out: FollowOutcome) => {
    if (settled) return;
    settled = true;
    settle(out);
  };
  const giveUp = (reason: string) =>
    finish({ kind: 'result', result: { status: 'FAILED', exitCode: null, reason }, abandon: true });

  const trackPending = (next: PendingProblem | undefined) => {
    clearTimeout(graceTimer);
    if (!next) return void (problem = undefined);
    if (next.kind !== problem?.kind) problemSince = Date.now();
    const merged = mergeProblem(problem, next);
    if (merged.message !== problem?.message) note(io, `the pod is not running: ${merged.message}`);
    problem = merged;
    const grace =
      next.kind === 'unschedulable' ? timing.unschedulableGraceMs : timing.imagePullGraceMs;
    const left = problemSince + grace - Date.now();
    if (left <= 0) giveUp(merged.message);
    else graceTimer = setTimeout(evaluate, left);
  };

  const startLog = (pod: string) => {
    const stop = new AbortController();
    const done = followPodLog({
      kubeConfig: client.kubeConfig,
      namespace: client.namespace,
      pod,
      container: CONTAINER_NAME,
      ...(o.resume?.pod === pod && { from: o.resume }),
      onLine: (line, at) => io.onLog(line, 'stdout', at && formatPosition({ ...at, pod })),
      containerEnded: () =>
        settled ||
        seen.pods.some(
          (p) => p.metadata?.name === pod && p.status?.containerStatuses?.[0]?.state?.terminated,
        ),
      onUnreadable: (f) => note(io, `cannot read the pod's log: ${f.message}`),
      backoff: timing.backoff,
      signal: stop.signal,
    }).catch((err: unknown) => note(io, `log streaming stopped: ${String(err)}`));
    log = { done, stop };
  };

  function evaluate(): void {
    if (settled || !seen.jobListed || !seen.podsListed) return;
    const a = assess(seen.job, seen.pods, request);
    if (a.logPod !== undefined && !log) startLog(a.logPod);
    if (a.result && !a.podReportPending)
      return finish({ kind: 'result', result: a.result, abandon: false });
    if (a.result) {
      // Give the pod's report a moment; without it, the Job's word is the result.
      const result = a.result;
      podReportTimer ??= setTimeout(
        () => finish({ kind: 'result', result, abandon: false }),
        timing.logDrainMs,
      );
      return;
    }
    trackPending(a.pending);
  }

  const onAbort = () => finish({ kind: 'aborted', reason: io.signal.reason });
  io.signal.addEventListener('abort', onAbort, { once: true });
  if (io.signal.aborted) onAbort();
  const common = {
    watch: client.watch,
    backoff: timing.backoff,
    watchTimeoutSeconds: timing.watchTimeoutSeconds,
    signal: watching.signal,
    onRetry: (message: string) =>
      o.logger?.warn({ job: name, message }, 'Kubernetes API call failed: retrying'),
    onFatal: (f: ApiFailure) => giveUp(`cannot follow the Kubernetes Job ${name}: ${f.message}`),
  };
  const fieldSelector = `metadata.name=${name}`;
  const labelSelector = selectorOf(attemptLabels(request, o.instance));
  const following = Promise.all([
    reflect<V1Job>({
      ...common,
      path: `/apis/batch/v1/namespaces/${client.namespace}/jobs`,
      query: { fieldSelector },
      list: async () => {
        const l = await client.batch.listNamespacedJob({
          namespace: client.namespace,
          fieldSelector,
        });
        return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
      },
      onChange: (jobs) => {
        seen.job = jobs[0];
        seen.jobListed = true;
        evaluate();
      },
    }),
    reflect<V1Pod>({
      ...common,
      path: `/api/v1/namespaces/${client.namespace}/pods`,
      query: { labelSelector },
      list: async () => {
        const l = await client.core.listNamespacedPod({
          namespace: client.namespace,
          labelSelector,
        });
        return { items: l.items, resourceVersion: l.metadata?.resourceVersion ?? '' };
      },
      onChange: (pods) => {
        seen.pods = pods;
        seen.podsListed = true;
        evaluate();
      },
    }),
  ]).catch((err: unknown) => giveUp(`following the Kubernetes Job failed: ${String(err)}`));

  const out = await outcome;
  io.signal.removeEventListener('abort', onAbort);
  clearTimeout(graceTimer);
  clearTimeout(podReportTimer);
  watching.abort();
  await following;
  const streaming = log;
  if (streaming) {
    if (out.kind === 'result') await Promise.race([streaming.done, sleep(timing.logDrainMs)]);
    streaming.stop.abort();
    await streaming.done;
  }
  return out;
}
