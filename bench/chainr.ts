/**
 * chainr under test: sched in this process with work beside it as `chainr up` runs it (on a worker
 * thread), or on this thread (where the timed workloads note when each attempt ran), or sched here
 * and `chainr work` child processes. Jobs run on the noop executor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadConfig } from '../src/config.ts';
import type { ExecutionRequest, ExecutionResult, Executor } from '../src/executors/executor.ts';
import { NoopExecutor } from '../src/executors/noop.ts';
import { ExecutorRegistry } from '../src/executors/registry.ts';
import { buildSched } from '../src/services/sched/service.ts';
import { runWorkThread } from '../src/services/work/runtime.ts';
import { startWork } from '../src/services/work/service.ts';
import { connect } from '../src/store/connection.ts';
import { endsWithThisProcess } from '../src/process/exit-cleanup.ts';
import { makeKeys, readyQueueName, type Keys } from '../src/store/keys.ts';
import type { ReplicaConfirmation } from '../src/store/replication.ts';
import { startClient, type Client } from './client-link.ts';
import { sleep } from './stats.ts';

export const PREFIX = 'chainr:';
/** The product's defaults (CHAINR_MAX_EVENTS, CHAINR_MAX_LOG_LINES, ...), as `chainr up` has them. */
const defaults = loadConfig({});

/** A job's variable telling TimedNoop to output `items`, a JSON array of that many numbers. */
export const BENCH_ITEMS = 'BENCH_ITEMS';

/** The noop executor, noting when each attempt ran: a noop job starts and ends at one instant. */
export class TimedNoop implements Executor {
  readonly name = 'noop';
  /** performance.now() of each `<uid>/<job>` that ran. */
  readonly at = new Map<string, number>();
  private readonly noop = new NoopExecutor();

  run(request: ExecutionRequest): Promise<ExecutionResult> {
    this.at.set(`${request.uid}/${request.job}`, performance.now());
    // A producer of the fan-out workload: its output, an array of BENCH_ITEMS numbers.
    const items = Number(request.env[BENCH_ITEMS] ?? 0);
    if (items > 0) {
      const list = JSON.stringify(Array.from({ length: items }, (_, i) => i));
      return Promise.resolve({
        status: 'SUCCESSFUL',
        exitCode: 0,
        reason: '',
        outputs: { items: list },
      });
    }
    return this.noop.run();
  }
}

export interface ChainrBench {
  url: string;
  keys: Keys;
  timings: TimedNoop;
  /** Submits runs through the API from another process, and sees them end. */
  client: Client;
  stop(): Promise<void>;
}

/**
 * Where the worker runs: `thread` as `chainr up` runs it (work/runtime.ts: runWorkThread), `loop` on
 * this thread (startWork, with `timings` noting each attempt's start), or `none`.
 */
export type WorkPlacement = 'thread' | 'loop' | 'none';

export async function startChainr(
  redisUrl: string,
  options: {
    work: WorkPlacement;
    concurrency: number;
    /** Replicas a new run must be on before the API acknowledges it (CHAINR_WAIT_REPLICAS). */
    replication?: ReplicaConfirmation;
  },
): Promise<ChainrBench> {
  const keys = makeKeys(PREFIX);
  const logger = pino({ level: 'silent' });
  const redis = { url: redisUrl };
  const commands = connect(redis, { commandTimeoutMs: defaults.redisTimeoutMs });
  const app = await buildSched({
    redis: commands,
    connectBlocking: () => connect(redis),
    keys,
    maxEvents: defaults.maxEvents,
    maxLogLines: defaults.maxLogLines,
    maxJobsPerPipeline: 5000,
    defaultExecutor: 'noop',
    bodyLimitBytes: defaults.bodyLimitBytes,
    ...(options.replication && { replication: options.replication }),
    logger,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const timings = new TimedNoop();
  let work: { close(): Promise<void> } | undefined;
  if (options.work === 'thread') {
    const config = loadConfig({
      CHAINR_PREFIX: PREFIX,
      CHAINR_EXECUTOR: 'noop',
      CHAINR_CONCURRENCY: String(options.concurrency),
      CHAINR_CONTAINER: '0',
      CHAINR_SHUTDOWN_GRACE: '1s',
      LOG_LEVEL: 'silent',
    });
    const thread = await runWorkThread(config, redis, logger);
    work = { close: () => thread.stop() };
  } else if (options.work === 'loop') {
    work = await startWork({
      connect: () => connect(redis),
      keys,
      executors: new ExecutorRegistry([timings], 'noop'),
      concurrency: options.concurrency,
      maxEvents: defaults.maxEvents,
      maxLogLines: defaults.maxLogLines,
      logger,
      shutdownGraceMs: 1000,
    });
  }
  const client = await startClient(redisUrl, keys.statusIndexPrefix);
  return {
    url,
    keys,
    timings,
    client,
    async stop() {
      await client.stop();
      await app.close();
      await work?.close();
      commands.disconnect();
    },
  };
}

/** `chainr work` child processes on the noop executor; resolves once all are taking jobs. */
export async function spawnChainrWorkers(
  redisUrl: string,
  count: number,
  concurrency: number,
): Promise<{ pids: number[]; stop(): Promise<void> }> {
  const bin = fileURLToPath(new URL('../bin/chainr.js', import.meta.url));
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const env = { ...process.env, REDIS_URL: redisUrl, CHAINR_PREFIX: PREFIX };
    Object.assign(env, { CHAINR_EXECUTOR: 'noop', CHAINR_CONCURRENCY: String(concurrency) });
    // Several workers on one machine: each takes a free port for its health and metrics.
    Object.assign(env, { CHAINR_OPS_PORT: '0' });
    children.push(
      endsWithThisProcess(
        spawn(process.execPath, [bin, 'work'], {
          env: { ...env, LOG_LEVEL: 'warn' },
          stdio: ['ignore', 'inherit', 'inherit'],
        }),
      ),
    );
  }
  const stop = async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((done) => {
            if (c.exitCode !== null || c.signalCode !== null) return done();
            c.once('exit', () => done());
            c.kill('SIGTERM');
          }),
      ),
    );
  };
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(readyQueueName('noop'), {
    connection,
    prefix: makeKeys(PREFIX).bullPrefix,
  });
  try {
    const deadline = Date.now() + 180_000; // tsx compiles the sources at start: slow when loaded
    while ((await queue.getWorkersCount()) < count) {
      const dead = children.find((c) => c.exitCode !== null);
      if (dead || Date.now() > deadline) {
        await stop();
        throw new Error(`chainr work did not start (exit code ${dead?.exitCode ?? 'none'})`);
      }
      await sleep(100);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
  return { pids: children.map((c) => c.pid ?? 0), stop };
}
