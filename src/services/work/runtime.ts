/**
 * work from configuration: its executors and its worker, run on the calling thread (`chainr work`)
 * or on a worker thread of its own (`chainr up`: thread.ts). Apart from runtime.ts, so that
 * the thread loads what the worker needs and not the API.
 */
import { isMainThread } from 'node:worker_threads';
import { startModuleThread } from '../../process/module-thread.ts';
import type { Logger } from 'pino';
import { tmpdir } from 'node:os';
import { ConfigError, offers, type Config, type RedisConfig } from '../../config.ts';
import type { Executor } from '../../executors/executor.ts';
import { detectEngine } from '../../executors/container/engine.ts';
import { ContainerExecutor } from '../../executors/container/executor.ts';
import { LocalExecutor, recordsDir, type JobUser } from '../../executors/local.ts';
import { endRecordedJobs, reapDeadWorkers } from '../../executors/local-records.ts';
import { resolveJobUser } from '../../executors/local-user.ts';
import { RunDirectories } from '../../executors/workspaces.ts';
import { atExit } from '../../process/exit-cleanup.ts';
import { openArtifactStore } from '../../artifacts/open.ts';
import { NoopExecutor } from '../../executors/noop.ts';
import { ExecutorRegistry } from '../../executors/registry.ts';
import { connect } from '../../store/connection.ts';
import { makeKeys } from '../../store/keys.ts';
import type { ServiceHandle } from '../../http/ops/liveness.ts';
import { registerKubernetesMetrics, workRegistry } from '../../http/ops/metrics.ts';
import { startWork } from './service.ts';

/** work on this thread, with the executors configured (`chainr work`; `chainr up`'s thread). */
export async function runWork(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
): Promise<ServiceHandle> {
  const executors = new ExecutorRegistry(
    [
      ...localExecutor(config, logger),
      ...(offers(config, 'noop') ? [new NoopExecutor()] : []),
      ...(await kubernetesExecutor(config, logger)),
      ...containerExecutor(config, logger),
    ],
    config.defaultExecutor,
  );
  if (executors.names().length === 0)
    throw new ConfigError(
      `this worker offers no executor (CHAINR_EXECUTORS: ${config.executors?.join(', ') ?? 'unset'})`,
    );
  const artifactStore = await openArtifactStore(config.artifacts);
  const work = await startWork({
    connect: () => connect(redis),
    keys: makeKeys(config.prefix),
    executors,
    concurrency: config.concurrency,
    executorLimits: config.executorLimits,
    shutdownGraceMs: config.shutdownGraceMs,
    lockDurationMs: config.lockDurationMs,
    heartbeatIntervalMs: config.ops.heartbeatIntervalMs,
    maxEvents: config.maxEvents,
    maxLogLines: config.maxLogLines,
    logLimits: config.logLimits,
    secrets: config.secrets,
    artifacts: { store: artifactStore, limits: config.artifacts.limits },
    logger,
  });
  return {
    service: 'work',
    running: () => work.running(),
    registersItself: true,
    metrics: workRegistry,
    stop: async () => {
      await work.close();
      await executors.close();
      artifactStore.close?.();
    },
  };
}

/** What `runWorkThread` hands the thread it starts (thread.ts), and their messages. */
export interface WorkThreadData {
  config: Config;
  redis: RedisConfig;
}

/** From the main thread. */
export type ToWorkThread = { kind: 'metrics'; id: number } | { kind: 'stop' };

/** To the main thread. */
export type FromWorkThread =
  | { kind: 'started' }
  /** The worker could not start; `config`: because of the configuration (a ConfigError). */
  | { kind: 'failed'; message: string; config: boolean }
  | { kind: 'metrics'; id: number; text: string }
  /** Whether every queue worker is taking jobs, when that changes (readiness). */
  | { kind: 'running'; running: boolean }
  | { kind: 'stopped' };

/** How long /metrics waits for the worker thread's figures before leaving them out. */
const THREAD_METRICS_TIMEOUT_MS = 2000;

/**
 * work, in a worker thread of this process (thread.ts): what `chainr up` runs, so that the
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
  // The thread's local jobs end with this process, however it exits (a stop that cannot finish
  // while Redis is down included): the thread sees no exit of its own then.
  atExit(() => endRecordedJobs(recordsDir(config.local.workDir ?? tmpdir())));
  const thread = startModuleThread(new URL('./thread', import.meta.url), data);
  let state: 'starting' | 'started' | 'stopping' = 'starting';
  let queuesRunning = true;
  const metricsAsked = new Map<number, (text: string) => void>();
  let lastId = 0;
  let stopped: () => void = () => undefined;
  const started = new Promise<void>((done, fail) => {
    thread.on('message', (m: FromWorkThread) => {
      if (m.kind === 'started') done();
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
  await started;
  state = 'started';
  const ask = (message: ToWorkThread) => thread.postMessage(message);
  return {
    service: 'work',
    running: () => state === 'started' && queuesRunning,
    registersItself: true,
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
 * The local executor, when offered. Before it takes jobs it ends what a killed predecessor on
 * this host left (process groups, working directories: local-records.ts).
 */
function localExecutor(config: Config, logger: Logger): Executor[] {
  if (!offers(config, 'local')) return [];
  const workRoot = config.local.workDir ?? tmpdir();
  let user: JobUser | undefined;
  if (config.local.user !== undefined) {
    const resolved = resolveJobUser(config.local.user, process.getuid?.() ?? -1);
    if (typeof resolved === 'string') throw new ConfigError(`CHAINR_LOCAL_USER: ${resolved}`);
    user = resolved;
    logger.info({ user: user.name, uid: user.uid }, 'local executor: jobs run as their own user');
  } else {
    logger.warn(
      "local executor: jobs run as this worker's own user, and can read its environment (/proc) and files, Redis password included; set CHAINR_LOCAL_USER to an unprivileged user (the worker runs as root then), or turn local off with CHAINR_EXECUTORS",
    );
  }
  const records = recordsDir(workRoot);
  // Its jobs end with this process, however it exits. On a worker thread, the process's exit is
  // not seen: runWorkThread, on the main thread, does this.
  if (isMainThread) atExit(() => endRecordedJobs(records));
  const reaped = reapDeadWorkers(records);
  if (reaped.workers > 0)
    logger.warn(reaped, 'local executor: ended what workers killed on this host left behind');
  return [
    new LocalExecutor({
      workRoot,
      workspaces: new RunDirectories(config.workspacesDir),
      ...(user && { user }),
    }),
  ];
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
    import('../../executors/kubernetes/client.ts'),
    import('../../executors/kubernetes/executor.ts'),
  ]);
  try {
    const client = connectKubernetes(k);
    logger.info({ namespace: client.namespace }, 'kubernetes executor ready');
    if (!config.artifacts.s3)
      logger.warn(
        'kubernetes jobs that store or receive artifacts will fail: their pods cannot reach the filesystem artifact store (set CHAINR_ARTIFACTS_S3_BUCKET)',
      );
    const executor = new KubernetesExecutor({
      client,
      ttlSecondsAfterFinished: k.ttlSecondsAfterFinished,
      workspaceDefaults: config.workspaceVolume,
      ...(k.instance !== undefined && { instance: k.instance }),
      ...(k.helperImage !== undefined && { helperImage: k.helperImage }),
      artifacts: {
        ...(config.artifacts.s3 && { s3: config.artifacts.s3 }),
        ...(k.artifactsSecret !== undefined && { credentialsSecret: k.artifactsSecret }),
      },
      timing: {
        imagePullGraceMs: k.imagePullGraceMs,
        unschedulableGraceMs: k.unschedulableGraceMs,
      },
      logger,
    });
    registerKubernetesMetrics(() => ({
      ...client.limiter.counts,
      openWatches: executor.informers.openWatches,
      cachedObjects: executor.informers.cachedObjects,
    }));
    return [executor];
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
    new ContainerExecutor({
      engine,
      stopGraceSeconds: c.stopGraceSeconds,
      network: c.network,
      workspaces: new RunDirectories(config.workspacesDir),
    }),
  ];
}
