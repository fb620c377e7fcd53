/**
 * Follows one attempt's Job to its end: reads the Job and its pods from the worker's shared
 * informers (informer.ts), asks the API server only when the Job has not reached the cache for a
 * while (it may have been deleted before its creation was seen), streams the
 * pod's log (pod-log.ts), shows why the pod is pending, fails the attempt when an image cannot be
 * pulled or the pod cannot be scheduled for longer than the grace period, and returns the result
 * the Job and its pod report (assess.ts). Whether to delete the Job is the caller's decision.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import type { ExecutionIO, ExecutionRequest, ExecutionResult } from '../executor.ts';
import { cutLine, DEFAULT_MAX_LINE_BYTES } from '../lines.ts';
import {
  assess,
  containerStatus,
  formatDuration,
  mergeProblem,
  type PendingProblem,
} from './assess.ts';
import { sleep } from './backoff.ts';
import type { KubernetesClient } from './client.ts';
import { classifyApiError } from './errors.ts';
import type { InformerTiming, JobInformers } from './informer.ts';
import { formatPosition, type PodLogPosition } from './log-cursor.ts';
import { CONTAINER_NAME } from './manifest.ts';
import { followPodLog } from './pod-log.ts';

export interface Timing extends InformerTiming {
  /** How long an image may fail to pull (or a container fail to be created) before the attempt fails. */
  imagePullGraceMs: number;
  /** How long the pod may stay unschedulable before the attempt fails. */
  unschedulableGraceMs: number;
  /** How long the Job may be missing from the cache before the API server is asked about it. */
  cacheMissCheckMs: number;
  /**
   * After the result, how long to wait for the rest of the log, counted from when its request is
   * answered: a stream still waiting for its turn at the rate limiter, or for a busy API server's
   * answer (up to LOG_ANSWER_WAIT_MS), is waited for, or the log of a job that ended while
   * requests queued would be lost.
   */
  logDrainMs: number;
  /**
   * How long past the attempt's timeout the worker waits for the Job controller to end the Job
   * (activeDeadlineSeconds) before it ends the attempt itself.
   */
  deadlineMarginMs: number;
}

export interface WarnLogger {
  warn(fields: object, message: string): void;
}

export type FollowOutcome =
  | { kind: 'result'; result: ExecutionResult; abandon: boolean }
  | { kind: 'aborted'; reason: unknown };

export interface FollowOptions {
  client: KubernetesClient;
  informers: JobInformers;
  name: string;
  request: ExecutionRequest;
  io: ExecutionIO;
  timing: Timing;
  /** Where the attempt's recorded log ends (re-attaching): the pod's log is read on from there. */
  resume?: PodLogPosition;
  logger?: WarnLogger;
}

/** How long a log request, once sent, may wait for the API server's answer after the result. */
const LOG_ANSWER_WAIT_MS = 60_000;

const note = (io: ExecutionIO, text: string) => io.onLog(`chainr: ${text}`, 'stderr');

export async function followAttempt(o: FollowOptions): Promise<FollowOutcome> {
  const { client, name, request, io, timing } = o;
  const cache = o.informers.acquire();
  /** The Job as last seen; `everSeen` tells a Job not cached yet from one deleted since. */
  const seen: { job?: V1Job; everSeen: boolean; pods: V1Pod[] } = { everSeen: false, pods: [] };
  let log:
    | { done: Promise<void>; sent: Promise<void>; answered: Promise<void>; stop: AbortController }
    | undefined;
  let problem: PendingProblem | undefined;
  let problemSince = 0;
  let graceTimer: NodeJS.Timeout | undefined;
  let podReportTimer: NodeJS.Timeout | undefined;
  let missTimer: NodeJS.Timeout | undefined;
  let settled = false;
  /** Woken at every change of the Job's pods and at the result (see untilTrue). */
  const changeWaiters = new Set<() => void>();
  const changed = () => {
    for (const wake of [...changeWaiters]) wake();
  };
  /**
   * Resolves true as soon as `test` holds (checked now and at each change), false after `ms` or
   * on abort: the pod's report is acted on the moment the watch brings it, not at a poll.
   */
  const untilTrue = (test: () => boolean, ms: number, signal: AbortSignal) =>
    new Promise<boolean>((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        changeWaiters.delete(check);
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      };
      const check = () => test() && done(true);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), ms);
      changeWaiters.add(check);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) done(false);
      else check();
    });
  let settle: (outcome: FollowOutcome) => void = () => undefined;
  const outcome = new Promise<FollowOutcome>((resolve) => (settle = resolve));
  const finish = (out: FollowOutcome) => {
    if (settled) return;
    settled = true;
    settle(out);
    changed();
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
    const reached = { sent: () => undefined as void, answered: () => undefined as void };
    const sent = new Promise<void>((resolve) => (reached.sent = resolve));
    const answered = new Promise<void>((resolve) => (reached.answered = resolve));
    const done = followPodLog({
      kubeConfig: client.kubeConfig,
      namespace: client.namespace,
      pod,
      container: CONTAINER_NAME,
      ...(o.resume?.pod === pod && { from: o.resume }),
      onLine: (line, at) =>
        io.onLog(
          cutLine(line, io.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES),
          'stdout',
          at && formatPosition({ ...at, pod }),
        ),
      containerEnded: (ms, signal) =>
        untilTrue(
          () =>
            settled ||
            seen.pods.some(
              (p) =>
                p.metadata?.name === pod && containerStatus(p, CONTAINER_NAME)?.state?.terminated,
            ),
          ms,
          signal,
        ),
      onUnreadable: (f) => note(io, `cannot read the pod's log: ${f.message}`),
      backoff: timing.backoff,
      limiter: client.limiter,
      progress: (step) => reached[step](),
      signal: stop.signal,
    }).catch((err: unknown) => note(io, `log streaming stopped: ${String(err)}`));
    log = { done, sent, answered, stop };
  };

  /** The Job has not reached the cache for a while: gone already, or the watch is behind. */
  const checkMissing = async () => {
    try {
      await client.batch.readNamespacedJob({ name, namespace: client.namespace });
      missTimer = undefined; // there: the cache will have it; ask again if it still has not
      evaluate();
    } catch (err) {
      if (classifyApiError(err).kind !== 'not-found') return void (missTimer = undefined);
      seen.everSeen = true; // deleted before the cache ever saw it
      evaluate();
    }
  };

  const assessed = {
    image: request.image,
    attempt: request.attempt,
    ...(request.timeoutMs !== undefined && { timeoutMs: request.timeoutMs }),
    ...(io.artifacts && { produces: io.artifacts.produces }),
  };

  function evaluate(): void {
    if (settled) return;
    const failure = cache.jobs.failure ?? cache.pods.failure;
    if (failure) return giveUp(`cannot follow the Kubernetes Job ${name}: ${failure.message}`);
    if (!cache.jobs.synced || !cache.pods.synced) return;
    seen.job = cache.jobs.get(name)[0];
    seen.pods = cache.pods.get(name);
    changed();
    if (seen.job) {
      seen.everSeen = true;
      // In the cache now: the API server need not be asked whether it exists.
      clearTimeout(missTimer);
    } else if (!seen.everSeen) {
      missTimer ??= setTimeout(() => void checkMissing(), timing.cacheMissCheckMs);
      return;
    }
    const a = assess(seen.job, seen.pods, assessed);
    if (a.logPod !== undefined && !log) startLog(a.logPod);
    if (a.result && !a.podReportPending)
      return finish({ kind: 'result', result: a.result, abandon: a.stopPod === true });
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

  const { timeoutMs } = request;
  const deadlineTimer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(
          () => giveUp(`timed out after ${formatDuration(timeoutMs)}`),
          timeoutMs + timing.deadlineMarginMs,
        );
  const onAbort = () => finish({ kind: 'aborted', reason: io.signal.reason });
  io.signal.addEventListener('abort', onAbort, { once: true });
  if (io.signal.aborted) onAbort();
  const unsubscribe = [cache.jobs.subscribe(name, evaluate), cache.pods.subscribe(name, evaluate)];
  evaluate();

  const out = await outcome;
  io.signal.removeEventListener('abort', onAbort);
  clearTimeout(graceTimer);
  clearTimeout(podReportTimer);
  clearTimeout(missTimer);
  clearTimeout(deadlineTimer);
  for (const u of unsubscribe) u();
  cache.release();
  const streaming = log;
  if (streaming) {
    if (out.kind === 'result')
      await Promise.race([
        streaming.done,
        streaming.sent.then(() => sleep(LOG_ANSWER_WAIT_MS, streaming.stop.signal)),
        streaming.answered.then(() => sleep(timing.logDrainMs, streaming.stop.signal)),
      ]);
    streaming.stop.abort();
    await streaming.done;
  }
  return out;
}
