/**
 * work: takes ready job attempts from the queues of the executors it has, runs each, streams its
 * log, records its result and advances the run (finish-job.lua), then enqueues what became ready
 * (or the next attempt of a failed job, after its backoff).
 */
import { WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { retryDelayMs } from '../core/durations.ts';
import { outputsEnv } from '../core/outputs.ts';
import type { JobPlan } from '../core/plan.ts';
import {
  WORKER_SHUTDOWN_REASON,
  type ExecutionResult,
  type Executor,
} from '../executors/executor.ts';
import type { ExecutorRegistry } from '../executors/registry.ts';
import { readyQueueName, type Keys } from '../store/keys.ts';
import { LogStore } from '../store/logs.ts';
import { ReadyQueues, type AttemptData } from '../store/queue.ts';
import {
  Transitions,
  type Attempt,
  type Carrier,
  type FinishResult,
  type Runnable,
} from '../store/scripts.ts';
import { LogBuffer } from './log-buffer.ts';
import { hopTime, jobDuration } from './ops/metrics.ts';

export interface WorkOptions {
  /** Opens a new Redis connection (the worker needs several: commands, blocking, pub/sub). */
  connect: () => Redis;
  keys: Keys;
  executors: ExecutorRegistry;
  /** Attempts this process runs at once, per executor. */
  concurrency: number;
  /** Deployment-wide limits of attempts running at once, per executor name. */
  executorLimits?: Record<string, number>;
  maxEvents: number;
  maxLogLines: number;
  logger: Logger;
  /** How long SIGTERM waits for running jobs before handing them back. */
  shutdownGraceMs?: number;
  /** BullMQ's lock on a running attempt (default 30 s): how soon a dead worker's attempt is re-delivered. */
  lockDurationMs?: number;
}

/** The longest delay setTimeout honours. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WorkService {
  /** Every queue worker is taking jobs (readiness). */
  running(): boolean;
  close(): Promise<void>;
}

async function execute(
  executor: Executor | undefined,
  executors: ExecutorRegistry,
  attempt: Attempt,
  plan: JobPlan,
  env: Record<string, string>,
  log: LogBuffer,
  signal: AbortSignal,
): Promise<ExecutionResult> {
  if (!executor) {
    return {
      status: 'FAILED',
      exitCode: null,
      reason: `executor "${plan.executor}" is not available on this worker (it has: ${executors.names().join(', ')})`,
    };
  }
  const request = {
    ...attempt,
    image: plan.image,
    run: plan.run,
    env,
    timeoutMs: plan.timeoutMs,
    resources: plan.resources,
    kubernetes: plan.kubernetes,
  };
  return executor
    .run(request, {
      onLog: (line, stream, position) => log.push(line, stream, position),
      recordedPosition: () => log.lastPosition(),
      signal,
    })
    .catch((err: unknown) => ({
      status: 'FAILED' as const,
      exitCode: null,
      reason: `${executor.name} executor error: ${err instanceof Error ? err.message : String(err)}`,
    }));
}

export async function startWork(options: WorkOptions): Promise<WorkService> {
  const { keys, executors, logger } = options;
  const commands = options.connect();
  const subscriber = options.connect();
  const transitions = new Transitions(commands, keys, options.maxEvents);
  const logs = new LogStore(commands, keys, options.maxLogLines);
  const queues = new ReadyQueues(commands, keys);
  /** Running attempts by run uid, so that a cancel stops them all. */
  const running = new Map<string, Set<AbortController>>();

  await subscriber.subscribe(keys.cancelChannel);
  subscriber.on('message', (_channel: string, uid: string) => {
    for (const controller of running.get(uid) ?? []) controller.abort('canceled');
  });

  /**
   * Runs one attempt and records its result. Resolves with the transition's answer, including
   * a ready dependent carried on in this slot when there is one.
   */
  async function runAttempt(
    bullJob: Job<AttemptData>,
    token: string | undefined,
    runnable: Runnable,
    startedAt: number,
    carrier: Carrier,
  ): Promise<FinishResult> {
    const { attempt } = runnable;
    const controller = new AbortController();
    // Registered before starting, so a cancel that lands in between still stops the job.
    const ofRun = running.get(attempt.uid) ?? new Set();
    running.set(attempt.uid, ofRun.add(controller));
    let timer: NodeJS.Timeout | undefined;
    try {
      const plan = JSON.parse(runnable.spec) as JobPlan;
      if (plan.timeoutMs !== undefined) {
        // setTimeout fires at once for delays beyond 2^31-1 ms (~596 h): wait in steps.
        const deadline = Date.now() + plan.timeoutMs;
        const arm = () => {
          const left = deadline - Date.now();
          timer =
            left > MAX_TIMER_MS
              ? setTimeout(arm, MAX_TIMER_MS)
              : setTimeout(() => controller.abort(`timed out after ${plan.timeout}`), left);
        };
        arm();
      }
      const log = new LogBuffer(logs, attempt.uid, attempt.job, (err) =>
        logger.error({ err, attempt }, 'log write failed'),
      );
      // The job's own env and parameters win over what its dependencies output.
      const env = { ...outputsEnv(runnable.dependencyOutputs), ...plan.env };
      const result = await execute(
        executors.get(plan.executor),
        executors,
        attempt,
        plan,
        env,
        log,
        controller.signal,
      );
      await log.flush();
      if (controller.signal.reason === WORKER_SHUTDOWN_REASON) {
        // Not the job's outcome: the attempt stays RUNNING in the store and the queue's job goes
        // back to the head of its queue now, so another worker takes it at once (start-job.lua
        // answers 'restart', for this attempt or the one its carrier carried on) instead of
        // after the lock expires. WaitingError tells BullMQ it has been moved.
        await bullJob.moveToWait(token);
        logger.info({ attempt }, 'attempt handed back at shutdown');
        throw new WaitingError();
      }
      const finishedAt = Date.now();
      const finished = await transitions.finishJob(attempt, result, finishedAt, carrier);
      if (finished.code === 'ok' || finished.code === 'retry') {
        const labels = { executor: plan.executor, status: result.status };
        jobDuration.observe(labels, (finishedAt - startedAt) / 1000);
      }
      if (finished.code === 'retry') {
        const delay = plan.retries ? retryDelayMs(plan.retries, finished.retry) : 0;
        await queues.enqueue(attempt.uid, finished.ready, delay);
      } else if (finished.code === 'ok' || finished.code === 'duplicate') {
        await queues.enqueue(attempt.uid, finished.ready);
      }
      if (finished.code === 'ok' && finished.next) {
        // Ready when its last dependency's result was recorded, started now in this slot.
        hopTime.observe({ executor: carrier.executor }, (Date.now() - finishedAt) / 1000);
      }
      return finished;
    } finally {
      clearTimeout(timer);
      ofRun.delete(controller);
      if (ofRun.size === 0) running.delete(attempt.uid);
    }
  }

  /**
   * The processor of one executor's queue: starts the attempt it was given, then runs each ready
   * dependent the transitions carry on in this slot (one at most per finished job, of the same
   * executor), saving the queue's round trips between dependent jobs.
   */
  const processorOf =
    (executor: string) =>
    async (bullJob: Job<AttemptData>, token?: string): Promise<string> => {
      const holds = bullJob.data;
      const startedAt = Date.now();
      const started = await transitions.startJob(holds, startedAt);
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
      const carrier: Carrier = { executor, holds };
      let next: Runnable | undefined = started;
      let at = startedAt;
      let code: string = started.code;
      while (next) {
        const finished = await runAttempt(bullJob, token, next, at, carrier);
        code = finished.code;
        next = finished.code === 'ok' || finished.code === 'duplicate' ? finished.next : undefined;
        at = Date.now();
      }
      return code;
    };

  const workers: Worker<AttemptData>[] = [];
  /** The workers' own connections: BullMQ does not close a connection it was given. */
  const connections: Redis[] = [];
  for (const name of executors.names()) {
    const limit = options.executorLimits?.[name];
    if (limit !== undefined) await queues.queue(name).setGlobalConcurrency(limit);
    const connection = options.connect();
    connections.push(connection);
    const worker = new Worker<AttemptData>(readyQueueName(name), processorOf(name), {
      connection,
      prefix: keys.bullPrefix,
      concurrency: options.concurrency,
      // A worker killed mid-job leaves its lock to expire; a stalled-job check (one per lock
      // duration, by any worker) re-delivers the job: within two lock durations of the death.
      maxStalledCount: 100,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.lockDurationMs ?? 30_000,
    });
    worker.on('error', (err) => logger.error({ err }, 'worker error'));
    worker.on('failed', (job, err) =>
      logger.warn({ attempt: job?.data, err: err.message }, 'attempt processing failed'),
    );
    workers.push(worker);
  }

  return {
    running: () => workers.every((w) => w.isRunning()),
    async close() {
      const grace = options.shutdownGraceMs ?? 10_000;
      const drained = Promise.all(workers.map((w) => w.close()));
      const timer = setTimeout(() => {
        for (const set of running.values()) for (const c of set) c.abort(WORKER_SHUTDOWN_REASON);
      }, grace);
      await drained;
      clearTimeout(timer);
      await queues.close();
      for (const c of [...connections, subscriber, commands]) c.disconnect();
    },
  };
}
