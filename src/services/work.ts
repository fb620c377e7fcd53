/**
 * work: takes ready job attempts from the queue, runs each on an executor, streams its log,
 * records its result and advances the run (finish-job.lua), then enqueues what became ready.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ExecutionResult } from '../executors/executor.ts';
import type { ExecutorRegistry } from '../executors/registry.ts';
import { READY_QUEUE, type Keys } from '../store/keys.ts';
import { LogStore } from '../store/logs.ts';
import { enqueue, readyQueue, type AttemptData } from '../store/queue.ts';
import { Transitions } from '../store/scripts.ts';
import { LogBuffer } from './log-buffer.ts';

export interface WorkOptions {
  /** Opens a new Redis connection (the worker needs several: commands, blocking, pub/sub). */
  connect: () => Redis;
  keys: Keys;
  executors: ExecutorRegistry;
  concurrency: number;
  maxEvents: number;
  maxLogLines: number;
  logger: Logger;
  /** How long SIGTERM waits for running jobs before handing them back. */
  shutdownGraceMs?: number;
}

const SHUTDOWN = 'worker shutting down';

export interface WorkService {
  close(): Promise<void>;
}

export async function startWork(options: WorkOptions): Promise<WorkService> {
  const { keys, executors, logger } = options;
  const commands = options.connect();
  const subscriber = options.connect();
  const transitions = new Transitions(commands, keys, options.maxEvents);
  const logs = new LogStore(commands, keys, options.maxLogLines);
  const queue = readyQueue(commands, keys);
  /** Running attempts by run uid, so that a cancel stops them all. */
  const running = new Map<string, Set<AbortController>>();

  await subscriber.subscribe(keys.cancelChannel);
  subscriber.on('message', (_channel: string, uid: string) => {
    for (const controller of running.get(uid) ?? []) controller.abort('canceled');
  });

  async function process(bullJob: Job<AttemptData>): Promise<string> {
    const attempt = bullJob.data;
    const controller = new AbortController();
    // Registered before starting, so a cancel that lands in between still stops the job.
    const ofRun = running.get(attempt.uid) ?? new Set();
    running.set(attempt.uid, ofRun.add(controller));
    try {
      const started = await transitions.startJob(attempt, Date.now());
      if (started.code !== 'start' && started.code !== 'restart') return started.code;
      if (started.code === 'restart')
        logger.warn({ attempt }, 'attempt re-delivered after its worker stopped: running it again');
      const spec = JSON.parse(started.spec) as { image: string; run: string; executor?: string };
      const log = new LogBuffer(logs, attempt.uid, attempt.job, (err) =>
        logger.error({ err, attempt }, 'log write failed'),
      );
      const executor = executors.get(spec.executor);
      const result: ExecutionResult = executor
        ? await executor
            .run(
              { ...attempt, image: spec.image, run: spec.run, env: {} },
              { onLog: (line, stream) => log.push(line, stream), signal: controller.signal },
            )
            .catch((err: unknown) => ({
              status: 'FAILED' as const,
              exitCode: null,
              reason: `${executor.name} executor error: ${err instanceof Error ? err.message : String(err)}`,
            }))
        : {
            status: 'FAILED',
            exitCode: null,
            reason: `executor "${spec.executor}" is not available on this worker (it has: ${executors.names().join(', ')})`,
          };
      await log.flush();
      if (controller.signal.reason === SHUTDOWN) {
        // Not the job's outcome: leave the attempt RUNNING for another worker to take over.
        throw new Error(SHUTDOWN);
      }
      const finished = await transitions.finishJob(attempt, result, Date.now());
      if (finished.code === 'ok' || finished.code === 'duplicate')
        await enqueue(queue, attempt.uid, finished.ready);
      return finished.code;
    } finally {
      ofRun.delete(controller);
      if (ofRun.size === 0) running.delete(attempt.uid);
    }
  }

  const worker = new Worker<AttemptData>(READY_QUEUE, process, {
    connection: options.connect(),
    prefix: keys.bullPrefix,
    concurrency: options.concurrency,
    // A worker killed mid-job leaves its lock to expire; the job is then re-delivered.
    maxStalledCount: 100,
  });
  worker.on('error', (err) => logger.error({ err }, 'worker error'));
  worker.on('failed', (job, err) =>
    logger.warn({ attempt: job?.data, err: err.message }, 'attempt processing failed'),
  );

  return {
    async close() {
      const grace = options.shutdownGraceMs ?? 10_000;
      const drained = worker.close();
      const timer = setTimeout(() => {
        for (const set of running.values()) for (const c of set) c.abort(SHUTDOWN);
      }, grace);
      await drained;
      clearTimeout(timer);
      await queue.close();
      subscriber.disconnect();
      commands.disconnect();
    },
  };
}
