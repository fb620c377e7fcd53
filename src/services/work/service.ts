/**
 * work: takes ready job attempts from the queues of the executors it has, runs each (attempt.ts),
 * streams its log, records its result and advances the run (finish-job.lua), then enqueues what
 * became ready (or the next attempt of a failed job, after its backoff).
 */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { WORKER_SHUTDOWN_REASON } from '../../executors/executor.ts';
import type { ExecutorRegistry } from '../../executors/registry.ts';
import { startHeartbeat } from '../../http/ops/heartbeat.ts';
import { InstanceStore } from '../../store/instances.ts';
import { readyQueueName, type Keys } from '../../store/keys.ts';
import { LogStore } from '../../store/logs.ts';
import { ReadyQueues, type AttemptData } from '../../store/queue.ts';
import { Transitions } from '../../store/scripts.ts';
import { RunStore } from '../../store/runs.ts';
import { DEFAULT_LOG_LIMITS, type LogLimits } from './log-buffer.ts';
import {
  processorOf,
  RunningAttempts,
  type ArtifactSettings,
  type AttemptRunnerParts,
} from './attempt.ts';
import { WorkerSecrets, type SecretsConfig } from './secrets.ts';
import { handBackOrphans } from './hand-back.ts';

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
  /** Bytes kept of a log line and of an attempt's log (default DEFAULT_LOG_LIMITS). */
  logLimits?: LogLimits;
  /** Where jobs' artifacts are stored, and their limits; undefined: jobs with artifacts fail. */
  artifacts?: ArtifactSettings;
  logger: Logger;
  /** How long SIGTERM waits for running jobs before handing them back. */
  shutdownGraceMs?: number;
  /**
   * BullMQ's lock on a running attempt (default 30 s): how soon BullMQ itself re-delivers the
   * attempt of a worker that died, when the hand-back on the worker's heartbeat did not.
   */
  lockDurationMs?: number;
  /** Where the jobs' secrets are read from, for executors that do not read them themselves. */
  secrets?: SecretsConfig;
  /** How often this worker renews its registration (default 1 s); it lives three of these. */
  heartbeatIntervalMs?: number;
}

export interface WorkService {
  /** Every queue worker is taking jobs (readiness). */
  running(): boolean;
  close(): Promise<void>;
}

export async function startWork(options: WorkOptions): Promise<WorkService> {
  const { keys, executors, logger } = options;
  const commands = options.connect();
  const subscriber = options.connect();
  // Its own connection, so that a beat never waits behind the log writes of busy jobs.
  const beats = options.connect();
  const queues = new ReadyQueues(commands, keys);
  const running = new RunningAttempts();
  /** The queue entries (attempt ids) being processed here: published with every heartbeat. */
  const holds = new Set<string>();
  let owner = { id: '', ttlMs: 0 };
  const parts: AttemptRunnerParts = {
    transitions: new Transitions(commands, keys, options.maxEvents),
    runs: new RunStore(commands, keys, options.maxEvents),
    logs: new LogStore(commands, keys, options.maxLogLines),
    queues,
    executors,
    secrets: new WorkerSecrets(options.secrets ?? {}),
    running,
    logLimits: options.logLimits ?? DEFAULT_LOG_LIMITS,
    ...(options.artifacts && { artifacts: options.artifacts }),
    logger,
    owner: () => owner,
    holds: {
      has: (entry) => holds.has(entry),
      add: (entry) => holds.add(entry),
      async release(entry) {
        holds.delete(entry);
        await commands.srem(keys.instanceHolds(owner.id), entry);
      },
      forget: (entry) => holds.delete(entry),
    },
  };

  await subscriber.subscribe(keys.cancelChannel);
  // "uid", or "uid\njob\njob...": the jobs to stop (a run's cleanup jobs go on after a first cancel).
  subscriber.on('message', (_channel: string, message: string) => {
    const [uid = '', ...jobs] = message.split('\n');
    running.abortRun(uid, 'canceled', jobs);
  });

  const workers: Worker<AttemptData>[] = [];
  /** The workers' own connections: BullMQ does not close a connection it was given. */
  const connections: Redis[] = [];
  for (const name of executors.names()) {
    const limit = options.executorLimits?.[name];
    if (limit !== undefined) await queues.queue(name).setGlobalConcurrency(limit);
    const connection = options.connect();
    connections.push(connection);
    const worker = new Worker<AttemptData>(readyQueueName(name), processorOf(parts, name), {
      connection,
      prefix: keys.bullPrefix,
      concurrency: options.concurrency,
      // Started once this instance is registered (below): its locks are then known as a live one's.
      autorun: false,
      // A dead worker's attempts are handed back as soon as its registration lapses
      // (hand-back.ts); BullMQ's own recovery stays as the backstop: its lock expires and a
      // stalled-job check (one per lock duration, by any worker) re-delivers the attempt.
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

  // Registered before taking any job, and until every job is finished or handed back: a lock
  // whose worker no registration names is a dead worker's.
  const intervalMs = options.heartbeatIntervalMs ?? 1000;
  const heartbeat = startHeartbeat({
    redis: beats,
    keys,
    service: 'work',
    intervalMs,
    logger,
    executors: executors.names(),
    concurrency: options.concurrency,
    queueWorkers: workers.map((w) => w.id),
    holds: () => [...holds],
  });
  owner = { id: heartbeat.id, ttlMs: heartbeat.ttlMs };
  await heartbeat.registered;
  for (const worker of workers)
    worker.run().catch((err: unknown) => logger.error({ err }, 'queue worker stopped'));
  logger.info(
    { executors: executors.names(), concurrency: options.concurrency, instance: heartbeat.id },
    'worker started',
  );

  const instances = new InstanceStore(beats, keys);
  let scanning = Promise.resolve();
  const scanner = setInterval(() => {
    // Only once every live instance has had the time to renew its registration since this one
    // last lost touch with Redis (twice the TTL: a peer reconnecting with backoff beats later).
    if (heartbeat.steadyForMs() <= 2 * heartbeat.ttlMs) return;
    scanning = scanning
      .then(() => handBackOrphans(queues, executors.names(), instances, logger))
      .catch((err: unknown) =>
        logger.warn({ err }, 'looking for the attempts of dead workers failed'),
      );
  }, intervalMs);

  return {
    running: () => workers.every((w) => w.isRunning()),
    async close() {
      clearInterval(scanner);
      const grace = options.shutdownGraceMs ?? 10_000;
      const drained = Promise.all(workers.map((w) => w.close()));
      const timer = setTimeout(() => running.abortAll(WORKER_SHUTDOWN_REASON), grace);
      await drained;
      clearTimeout(timer);
      await scanning;
      await heartbeat.stop();
      await queues.close();
      for (const c of [...connections, subscriber, commands, beats]) c.disconnect();
    },
  };
}
