/**
 * work from configuration: its executors and its worker, run on the calling thread (`chainr work`)
 * or on a worker thread of its own (`chainr up`: work-thread.ts). Apart from runtime.ts, so that
 * the thread loads what the worker needs and not the API.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ConfigError, type Config, type RedisConfig } from '../config.ts';
import type { Executor } from '../executors/executor.ts';
import { detectEngine } from '../executors/container/engine.ts';
import { ContainerExecutor } from '../executors/container/executor.ts';
import { LocalExecutor } from '../executors/local.ts';
import { NoopExecutor } from '../executors/noop.ts';
import { ExecutorRegistry } from '../executors/registry.ts';
import { connect } from '../store/connection.ts';
import { makeKeys } from '../store/keys.ts';
import type { ServiceHandle } from './ops/liveness.ts';
import { workRegistry } from './ops/metrics.ts';
import { startWork } from './work.ts';

/** work on this thread, with the executors configured (`chainr work`; `chainr up`'s thread). */
export async function runWork(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
): Promise<ServiceHandle & Required<Pick<ServiceHandle, 'serves'>>> {
  const executors = new ExecutorRegistry(
    [
      new LocalExecutor(),
      new NoopExecutor(),
      ...(await kubernetesExecutor(config, logger)),
      ...containerExecutor(config, logger),
    ],
    config.defaultExecutor,
  );
  const work = await startWork({
    connect: () => connect(redis),
    keys: makeKeys(config.prefix),
    executors,
    concurrency: config.concurrency,
    executorLimits: config.executorLimits,
    shutdownGraceMs: config.shutdownGraceMs,
    lockDurationMs: config.lockDurationMs,
    maxEvents: config.maxEvents,
    maxLogLines: config.maxLogLines,
    logger,
  });
  return {
    service: 'work',
    running: () => work.running(),
    serves: { executors: executors.names(), concurrency: config.concurrency },
    metrics: workRegistry,
    stop: () => work.close(),
  };
}

/** What `runWorkThread` hands the thread it starts (work-thread.ts), and their messages. */
export interface WorkThreadData {
  config: Config;
  redis: RedisConfig;
}

/** From the main thread. */
export type ToWorkThread = { kind: 'metrics'; id: number } | { kind: 'stop' };

/** To the main thread. */
export type FromWorkThread =
  | { kind: 'started'; serves: { executors: string[]; concurrency: number } }
  /** The worker could not start; `config`: because of the configuration (a ConfigError). */
  | { kind: 'failed'; message: string; config: boolean }
  | { kind: 'metrics'; id: number; text: string }
  /** Whether every queue worker is taking jobs, when that changes (readiness). */
  | { kind: 'running'; running: boolean }
  | { kind: 'stopped' };

/**
 * Loads the TypeScript sources in a worker thread: Node 20 does not carry the main thread's loader
 * (bin/chainr.js) into workers, so the thread registers it before importing its module.
 */
const THREAD_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
import(workerData.loader).then((tsx) => { tsx.register(); return import(workerData.module); });
`;

/** How long /metrics waits for the worker thread's figures before leaving them out. */
const THREAD_METRICS_TIMEOUT_MS = 2000;

/**
 * work, in a worker thread of this process (work-thread.ts): what `chainr up` runs, so that the
 * API and the worker each have an event loop (and a core) of their own. The worker's metrics are
 * served from here; a thread that dies takes the process with it, as a crash of an in-process
 * worker would.
 */
export async function runWorkThread(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
): Promise<ServiceHandle> {
  const data: WorkThreadData = { config, redis };
  const thread = new Worker(THREAD_BOOTSTRAP, {
    eval: true,
    workerData: {
      ...data,
      loader: import.meta.resolve('tsx/esm/api'),
      module: new URL('./work-thread.ts', import.meta.url).href,
    },
  });
  let state: 'starting' | 'started' | 'stopping' = 'starting';
  let queuesRunning = true;
  const metricsAsked = new Map<number, (text: string) => void>();
  let lastId = 0;
  let stopped: () => void = () => undefined;
  const started = new Promise<{ executors: string[]; concurrency: number }>((done, fail) => {
    thread.on('message', (m: FromWorkThread) => {
      if (m.kind === 'started') done(m.serves);
      else if (m.kind === 'failed')
        fail(m.config ? new ConfigError(m.message) : new Error(m.message));
      else if (m.kind === 'metrics') metricsAsked.get(m.id)?.(m.text);
      else if (m.kind === 'running') queuesRunning = m.running;
      else stopped();
    });
    const died = (err: Error) => {
      if (state === 'starting') return fail(err);
      if (state === 'stopping') return stopped();
      logger.fatal({ err }, 'the worker thread died');
      process.exit(1);
    };
    thread.on('error', died);
    thread.on('exit', (code) => died(new Error(`the worker thread exited (${code})`)));
  });
  const serves = await started;
  state = 'started';
  const ask = (message: ToWorkThread) => thread.postMessage(message);
  return {
    service: 'work',
    running: () => state === 'started' && queuesRunning,
    serves,
    metrics: {
      contentType: workRegistry.contentType,
      metrics: () =>
        new Promise<string>((done, fail) => {
          const id = ++lastId;
          const timer = setTimeout(() => {
            metricsAsked.delete(id);
            fail(new Error('the worker thread did not answer for its metrics'));
          }, THREAD_METRICS_TIMEOUT_MS);
          metricsAsked.set(id, (text) => {
            clearTimeout(timer);
            metricsAsked.delete(id);
            done(text);
          });
          ask({ kind: 'metrics', id });
        }),
    },
    async stop() {
      state = 'stopping';
      await new Promise<void>((done) => {
        stopped = done;
        ask({ kind: 'stop' });
      });
      await thread.terminate();
    },
  };
}

/**
 * The kubernetes executor, when configured. A cluster that was only detected (KUBECONFIG set, or
 * running in a pod) and cannot be used is skipped with a warning; one asked for is an error.
 */
async function kubernetesExecutor(config: Config, logger: Logger): Promise<Executor[]> {
  const k = config.kubernetes;
  if (!k) return [];
  // Loaded only when used: the Kubernetes client takes seconds to load, every service start.
  const [{ connectKubernetes }, { KubernetesExecutor }] = await Promise.all([
    import('../executors/kubernetes/client.ts'),
    import('../executors/kubernetes/executor.ts'),
  ]);
  try {
    const client = connectKubernetes(k);
    logger.info({ namespace: client.namespace }, 'kubernetes executor ready');
    return [
      new KubernetesExecutor({
        client,
        ttlSecondsAfterFinished: k.ttlSecondsAfterFinished,
        ...(k.instance !== undefined && { instance: k.instance }),
        timing: {
          imagePullGraceMs: k.imagePullGraceMs,
          unschedulableGraceMs: k.unschedulableGraceMs,
        },
        logger,
      }),
    ];
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (k.explicit) throw new ConfigError(`kubernetes executor: ${message}`);
    logger.warn({ err: message }, 'kubernetes executor not available');
    return [];
  }
}

/** The container executor, when docker or podman is there (or an error, when it was asked for). */
function containerExecutor(config: Config, logger: Logger): Executor[] {
  const c = config.container;
  if (!c) return [];
  const engine = detectEngine(c.engine);
  if (!engine) {
    if (c.explicit)
      throw new ConfigError(
        `container executor: ${c.engine ?? 'neither podman nor docker'} does not answer "version": install podman or docker, or set CHAINR_CONTAINER_ENGINE`,
      );
    return [];
  }
  logger.info({ engine }, 'container executor ready');
  return [
    new ContainerExecutor({ engine, stopGraceSeconds: c.stopGraceSeconds, network: c.network }),
  ];
}
