/**
 * One attempt, run: its timeout armed, its log streamed, its result recorded (finish-job.lua) and
 * what became ready enqueued (a failed attempt's retry after its backoff).
 */
import type { Job } from 'bullmq';
import { DelayedError, WaitingError } from 'bullmq';
import type { Logger } from 'pino';
import { evaluateCondition, type ConditionPlan } from '../../core/conditions.ts';
import { retryDelayMs } from '../../core/durations.ts';
import { withItem } from '../../core/foreach.ts';
import { withAncestorOutputs } from '../../core/outputs.ts';
import type { JobPlan } from '../../core/plan.ts';
import { SecretMask } from '../../core/secret-mask.ts';
import { LINE_CUT_MARKER } from '../../executors/lines.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import { JobArtifacts, type ArtifactLimits } from '../../artifacts/transfer.ts';
import {
  WORKER_SHUTDOWN_REASON,
  type ExecutionRequest,
  type ExecutionResult,
  type Executor,
} from '../../executors/executor.ts';
import type { ExecutorRegistry } from '../../executors/registry.ts';
import { hopTime, jobDuration } from '../../http/ops/metrics.ts';
import type { LogStore } from '../../store/logs.ts';
import type { AttemptData, ReadyQueues } from '../../store/queue.ts';
import type { RunStore } from '../../store/runs.ts';
import type {
  Attempt,
  AttemptResult,
  Carrier,
  FinishResult,
  Owner,
  Runnable,
  Transitions,
} from '../../store/scripts.ts';
import { LogBuffer, type LogLimits } from './log-buffer.ts';
import type { WorkerSecrets } from './secrets.ts';

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The attempts running in this process, by run uid and job, so that a cancel stops them. */
export class RunningAttempts {
  private readonly byRun = new Map<string, Map<AbortController, string>>();

  add(uid: string, job: string, controller: AbortController): void {
    const ofRun = this.byRun.get(uid) ?? new Map<AbortController, string>();
    this.byRun.set(uid, ofRun.set(controller, job));
  }

  delete(uid: string, controller: AbortController): void {
    const ofRun = this.byRun.get(uid);
    ofRun?.delete(controller);
    if (ofRun?.size === 0) this.byRun.delete(uid);
  }

  /** Stops the attempts of a run, of the jobs listed (every one when none is). */
  abortRun(uid: string, reason: string, jobs: string[] = []): void {
    for (const [controller, job] of this.byRun.get(uid) ?? []) {
      if (jobs.length === 0 || jobs.includes(job)) controller.abort(reason);
    }
  }

  abortAll(reason: string): void {
    for (const ofRun of this.byRun.values()) for (const c of ofRun.keys()) c.abort(reason);
  }
}

/** Aborts `controller` once `timeoutMs` have passed; returns the way to disarm it. */
function armTimeout(controller: AbortController, timeoutMs: number, timeout?: string): () => void {
  let timer: NodeJS.Timeout | undefined;
  // setTimeout fires at once for delays beyond 2^31-1 ms (~596 h): wait in steps.
  const deadline = Date.now() + timeoutMs;
  const arm = () => {
    const left = deadline - Date.now();
    timer =
      left > MAX_TIMER_MS
        ? setTimeout(arm, MAX_TIMER_MS)
        : setTimeout(() => controller.abort(`timed out after ${timeout}`), left);
  };
  arm();
  return () => clearTimeout(timer);
}

/** A log line masked; a cut line (lines.ts) also where a value may go on past the cut. */
function maskLine(mask: SecretMask, line: string): string {
  const cut = LINE_CUT_MARKER.exec(line);
  return cut ? mask.apply(line.slice(0, cut.index), true) + cut[0] : mask.apply(line);
}

/** The result with secret values masked wherever the job could have put them (reason, outputs). */
function maskResult(mask: SecretMask, result: ExecutionResult): ExecutionResult {
  const outputs =
    result.outputs &&
    Object.fromEntries(Object.entries(result.outputs).map(([k, v]) => [k, mask.apply(v)]));
  return { ...result, reason: mask.apply(result.reason), ...(outputs && { outputs }) };
}

async function execute(
  parts: Pick<AttemptRunnerParts, 'executors' | 'secrets' | 'runs' | 'artifacts'>,
  attempt: Attempt,
  plan: JobPlan,
  log: LogBuffer,
  signal: AbortSignal,
  maxLineBytes: number,
): Promise<ExecutionResult> {
  const { executors, secrets } = parts;
  const executor = executors.get(plan.executor);
  if (!executor) {
    return {
      status: 'FAILED',
      exitCode: null,
      reason: `executor "${plan.executor}" is not available on this worker (it has: ${executors.names().join(', ')})`,
    };
  }
  if (plan.workspace && !executor.providesWorkspace) {
    return {
      status: 'FAILED',
      exitCode: null,
      reason: `the ${executor.name} executor does not provide run workspaces (the job asks for one: workspace ${plan.workspace})`,
    };
  }
  // Secrets: passed on by reference to an executor that has them read where the job runs
  // (Kubernetes), else read here, given as variables and masked in what comes back.
  let env = plan.env;
  let mask: SecretMask | undefined;
  if (plan.secrets && !executor.secretsByReference) {
    const read = await secrets.read(plan.secrets);
    if (!read.ok) return { status: 'FAILED', exitCode: null, reason: read.reason };
    env = { ...env, ...read.values };
    mask = new SecretMask(Object.values(read.values));
  }
  const artifacts = await artifactsOf(parts, attempt, plan, executor);
  if (typeof artifacts === 'string') return { status: 'FAILED', exitCode: null, reason: artifacts };
  const request: ExecutionRequest = {
    ...attempt,
    image: plan.image,
    ...(plan.argv === undefined ? { run: plan.run } : { argv: plan.argv }),
    env,
    ...(plan.secrets && executor.secretsByReference && { secrets: plan.secrets }),
    timeoutMs: plan.timeoutMs,
    resources: plan.resources,
    kubernetes: plan.kubernetes,
    ...(plan.workspace && {
      workspace: {
        readOnly: plan.workspace === 'readOnly',
        ...(plan.workspaceVolume && { volume: plan.workspaceVolume }),
      },
    }),
  };
  const result = await executor
    .run(request, {
      onLog: mask
        ? (line, stream, position) => log.push(maskLine(mask, line), stream, position)
        : (line, stream, position) => log.push(line, stream, position),
      recordedPosition: () => log.lastPosition(),
      signal,
      maxLineBytes,
      ...(artifacts && { artifacts }),
    })
    .catch((err: unknown) => ({
      status: 'FAILED' as const,
      exitCode: null,
      reason: `${executor.name} executor error: ${err instanceof Error ? err.message : String(err)}`,
    }));
  return mask ? maskResult(mask, result) : result;
}

/** Where jobs' artifacts go, and how much of them is allowed. */
export interface ArtifactSettings {
  store: ArtifactStore;
  limits: ArtifactLimits;
}

export interface AttemptRunnerParts {
  transitions: Transitions;
  /**
   * Reads the statuses of the dependencies a `when` condition looks at, the ancestors' artifact
   * records, and the run's count of artifact bytes.
   */
  runs: Pick<RunStore, 'jobStatuses' | 'artifactRecords' | 'artifactBytes'>;
  logs: LogStore;
  queues: ReadyQueues;
  executors: ExecutorRegistry;
  /** The worker's own secrets, for executors that do not read them where the job runs. */
  secrets: WorkerSecrets;
  running: RunningAttempts;
  logLimits: LogLimits;
  artifacts?: ArtifactSettings;
  logger: Logger;
  /** This worker's registration: the owner start-job.lua records for the entries it takes. */
  owner: () => Owner;
  holds: EntryHolds;
}

/** The queue entries this worker processes (published with its registration). */
export interface EntryHolds {
  has(entry: string): boolean;
  add(entry: string): void;
  /** No longer processed here: forgotten at the next beat. */
  forget(entry: string): void;
  /** Given up now (handed back, failed): the next worker to take it need not wait for the beat. */
  release(entry: string): Promise<void>;
}

/**
 * The artifacts an attempt stores and receives, when it has any; a reason to fail it when they
 * cannot be moved here. An input whose job stored nothing (it ended otherwise, and a condition
 * let this job run) is not placed.
 */
async function artifactsOf(
  parts: Pick<AttemptRunnerParts, 'runs' | 'artifacts'>,
  attempt: Attempt,
  plan: JobPlan,
  executor: Executor,
): Promise<JobArtifacts | string | undefined> {
  const inputs = plan.inputs ?? [];
  if (!plan.artifacts && inputs.length === 0) return undefined;
  if (!executor.providesArtifacts)
    return `the ${executor.name} executor does not move artifacts (the job stores or receives some)`;
  if (!parts.artifacts) return 'this worker has no artifact store';
  const froms = [...new Set(inputs.map((input) => input.from))];
  const records = await parts.runs.artifactRecords(attempt.uid, froms);
  const placed = inputs.flatMap((input) => {
    const record = records[input.from]?.find((r) => r.name === input.name);
    return record ? [{ ...input, record }] : [];
  });
  const { store, limits } = parts.artifacts;
  return new JobArtifacts(
    store,
    attempt,
    plan.artifacts ?? [],
    placed,
    limits,
    parts.runs.artifactBytes,
  );
}

/**
 * Decides a job's `when` condition over its dependencies (ended: their statuses no longer
 * change): undefined when the job runs, else its result without running, SKIPPED with the
 * expression and the values it read, or FAILED when it could not be evaluated.
 */
async function conditionResult(
  runs: AttemptRunnerParts['runs'],
  runnable: Runnable,
  when: ConditionPlan,
): Promise<AttemptResult | undefined> {
  const statuses = await runs.jobStatuses(runnable.attempt.uid, when.deps);
  const facts = Object.fromEntries(
    when.deps.map((dep) => [
      dep,
      { status: statuses[dep] ?? 'PENDING', outputs: runnable.ancestorOutputs[dep] ?? {} },
    ]),
  );
  const decided = evaluateCondition(when, facts);
  if (decided.ok && decided.value) return undefined;
  return { status: decided.ok ? 'SKIPPED' : 'FAILED', exitCode: null, reason: decided.reason };
}

/**
 * A transition's answer; with a job carried on, the enqueue of the other jobs it made ready, still
 * under way.
 */
type Recorded = FinishResult & { enqueueing?: Promise<void> };

/**
 * Records an attempt's result (finish-job.lua) and enqueues what became ready: a failed
 * attempt's retry after its backoff, or the dependents decided. Resolves with the transition's
 * answer, including a ready dependent carried on in this slot when there is one (then before
 * the others are enqueued).
 */
async function record(
  parts: AttemptRunnerParts,
  attempt: Attempt,
  plan: JobPlan,
  result: AttemptResult,
  startedAt: number,
  carrier: Carrier,
): Promise<Recorded> {
  const { transitions, queues } = parts;
  const finishedAt = Date.now();
  const { retries } = plan;
  const waits =
    retries && result.status === 'FAILED'
      ? Array.from({ length: retries.limit }, (_, i) => retryDelayMs(retries, i + 1))
      : [];
  const finished = await transitions.finishJob(attempt, result, finishedAt, carrier, waits);
  if (finished.code === 'ok' || finished.code === 'retry') {
    const labels = { executor: plan.executor, status: result.status };
    jobDuration.observe(labels, (finishedAt - startedAt) / 1000);
  }
  if (finished.code === 'retry') {
    // Retry n (from 1) waits the n-th of the waits finish-job.lua was told of.
    await queues.enqueue(attempt.uid, finished.ready, waits[finished.retry - 1] ?? 0);
  } else if (finished.code === 'ok' || finished.code === 'duplicate') {
    const enqueueing = queues.enqueue(attempt.uid, finished.ready);
    if (finished.next) {
      // The job carried on starts while the others are enqueued: a forEach job's first
      // instance does not wait for the adds of the 999 others. carryOn awaits them before the
      // slot is given back; until then a failure is the carrier's (handled there).
      enqueueing.catch(() => undefined);
      if (finished.code === 'ok')
        hopTime.observe({ executor: carrier.executor }, (Date.now() - finishedAt) / 1000);
      return { ...finished, enqueueing };
    }
    await enqueueing;
  }
  return finished;
}

/**
 * Runs one attempt and records its result. Resolves with the transition's answer, including a
 * ready dependent carried on in this slot when there is one.
 */
export async function runAttempt(
  parts: AttemptRunnerParts,
  bullJob: Job<AttemptData>,
  token: string | undefined,
  runnable: Runnable,
  startedAt: number,
  carrier: Carrier,
): Promise<Recorded> {
  const { logs, running, logLimits, logger } = parts;
  const { attempt } = runnable;
  const controller = new AbortController();
  // Registered before starting, so a cancel that lands in between still stops the job.
  running.add(attempt.uid, attempt.job, controller);
  let disarm = () => {};
  try {
    const plan = JSON.parse(runnable.spec) as JobPlan;
    if (plan.timeoutMs !== undefined) disarm = armTimeout(controller, plan.timeoutMs, plan.timeout);
    const log = new LogBuffer(logs, attempt, logLimits, (err) =>
      logger.error({ err, attempt }, 'log write failed'),
    );
    const resolved = withAncestorOutputs(withItem(plan), runnable.ancestorOutputs);
    const result = await execute(
      parts,
      attempt,
      resolved,
      log,
      controller.signal,
      logLimits.maxLineBytes,
    );
    await log.flush();
    if (controller.signal.reason === WORKER_SHUTDOWN_REASON) {
      // Not the job's outcome: the attempt stays RUNNING in the store and the queue's job goes
      // back to the head of its queue now, so another worker takes it at once (start-job.lua
      // answers 'restart', for this attempt or the one its carrier carried on) instead of
      // after the lock expires. WaitingError tells BullMQ it has been moved.
      await parts.holds.release(bullJob.id ?? '');
      await bullJob.moveToWait(token);
      logger.info({ attempt }, 'attempt handed back at shutdown');
      throw new WaitingError();
    }
    return await record(parts, attempt, plan, result, startedAt, carrier);
  } finally {
    disarm();
    running.delete(attempt.uid, controller);
  }
}

/**
 * The processor of one executor's queue: starts the attempt it was given, then runs each ready
 * dependent the transitions carry on in this slot (one at most per finished job, of the same
 * executor), saving the queue's round trips between dependent jobs.
 */
export const processorOf =
  (parts: AttemptRunnerParts, executor: string) =>
  async (bullJob: Job<AttemptData>, token?: string): Promise<string> => {
    const { holds, logger } = parts;
    const entry = bullJob.id ?? '';
    // Processed here still: a re-delivery after this worker lost the entry's lock (a pause).
    if (holds.has(entry)) return leaveToOwner(parts, bullJob, token, parts.owner().id);
    holds.add(entry);
    try {
      return await processEntry(parts, executor, bullJob, token);
    } catch (err) {
      if (!(err instanceof WaitingError || err instanceof DelayedError))
        await holds.release(entry).catch((e: unknown) => logger.warn({ err: e }, 'release failed'));
      throw err;
    } finally {
      holds.forget(entry);
    }
  };

/**
 * A re-delivered entry that its owner, alive, still processes: put off for a registration's
 * lifetime, then looked at again (ended by then, or its owner gone and it restarted).
 */
async function leaveToOwner(
  parts: AttemptRunnerParts,
  bullJob: Job<AttemptData>,
  token: string | undefined,
  owner: string,
): Promise<never> {
  parts.logger.warn(
    { attempt: bullJob.data, owner },
    'attempt re-delivered while its worker is alive and runs it: left to that worker',
  );
  await bullJob.moveToDelayed(Date.now() + parts.owner().ttlMs, token);
  throw new DelayedError();
}

async function processEntry(
  parts: AttemptRunnerParts,
  executor: string,
  bullJob: Job<AttemptData>,
  token: string | undefined,
): Promise<string> {
  const { transitions, logger } = parts;
  const holds = bullJob.data;
  const startedAt = Date.now();
  const carrier: Carrier = { executor, holds };
  let started = await transitions.startJob(holds, startedAt, parts.owner());
  let skipped: FinishResult | undefined;
  if (started.code === 'decide') {
    // Decided while still PENDING: a false condition ends the job SKIPPED without it running.
    const plan = JSON.parse(started.spec) as JobPlan;
    const result = plan.when && (await conditionResult(parts.runs, started, plan.when));
    if (result) skipped = await record(parts, started.attempt, plan, result, startedAt, carrier);
    else started = await transitions.startJob(holds, Date.now(), parts.owner(), true);
  }
  if (skipped) return await carryOn(parts, bullJob, token, carrier, skipped);
  if (started.code === 'held') return leaveToOwner(parts, bullJob, token, started.owner);
  if (started.code !== 'start' && started.code !== 'restart') return started.code;
  if (started.code === 'restart') {
    const attempt = started.attempt;
    logger.warn({ attempt }, 'attempt re-delivered after its worker stopped: running it again');
  } else {
    // Ready since it was enqueued (after its retry delay, if any): for a dependent, that is
    // right after its last dependency's result was recorded. Re-deliveries are left out.
    const readyAt = bullJob.timestamp + (bullJob.opts.delay ?? 0);
    hopTime.observe({ executor }, Math.max(0, startedAt - readyAt) / 1000);
  }
  const finished = await runAttempt(parts, bullJob, token, started, startedAt, carrier);
  return await carryOn(parts, bullJob, token, carrier, finished);
}

/**
 * Runs each ready dependent the transitions carry on in this slot, one after the other; the slot
 * is given back once the other jobs made ready meanwhile are enqueued too.
 */
async function carryOn(
  parts: AttemptRunnerParts,
  bullJob: Job<AttemptData>,
  token: string | undefined,
  carrier: Carrier,
  finished: Recorded,
): Promise<string> {
  let last = finished;
  const enqueueing: Promise<void>[] = [];
  try {
    for (;;) {
      if (last.enqueueing) enqueueing.push(last.enqueueing);
      const next = last.code === 'ok' || last.code === 'duplicate' ? last.next : undefined;
      if (!next) return last.code;
      last = await runAttempt(parts, bullJob, token, next, Date.now(), carrier);
    }
  } finally {
    await Promise.all(enqueueing);
  }
}
