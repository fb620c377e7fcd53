/** Composes the services from configuration: what `chainr up`, `chainr sched` and `chainr work` run. */
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { ConfigError, type Config, type RedisConfig } from '../config.ts';
import type { Executor } from '../executors/executor.ts';
import { detectEngine } from '../executors/container/engine.ts';
import { ContainerExecutor } from '../executors/container/executor.ts';
import { connectKubernetes } from '../executors/kubernetes/client.ts';
import { KubernetesExecutor } from '../executors/kubernetes/executor.ts';
import { LocalExecutor } from '../executors/local.ts';
import { NoopExecutor } from '../executors/noop.ts';
import { ExecutorRegistry } from '../executors/registry.ts';
import { connect } from '../store/connection.ts';
import { makeKeys } from '../store/keys.ts';
import { loadNotifySettings } from './notif/load-config.ts';
import { startNotif, type NotifService } from './notif/service.ts';
import { gate } from './gate/plugin.ts';
import { loadSecurity, type SecuritySettings } from './gate/security.ts';
import { buildSched } from './sched/app.ts';
import { uiStatic } from './ui-static.ts';
import { startRecycle } from './recycle.ts';
import { startWork, type WorkService } from './work.ts';

export interface Running {
  /** The HTTP address, when this process serves HTTP. */
  url?: string;
  stop(): Promise<void>;
}

export function makeLogger(config: Config, service: string): Logger {
  return pino({
    level: config.logLevel,
    base: { service, pid: process.pid },
    // Bearer tokens and cookies never reach the logs (gate: docs/SECURITY.md).
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'headers.cookie',
        '*.headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}

async function listen(app: FastifyInstance, config: Config): Promise<string> {
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${port}`;
}

export async function runSched(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
  /** Auth, limits and headers (gate); loaded from config when not given. */
  security: SecuritySettings = loadSecurity(config),
): Promise<{ app: FastifyInstance; url: string }> {
  const commands = connect(redis, { failFast: true });
  const app = await buildSched({
    redis: commands,
    connectBlocking: () => connect(redis),
    keys: makeKeys(config.prefix),
    maxEvents: config.maxEvents,
    maxLogLines: config.maxLogLines,
    maxJobsPerPipeline: config.maxJobsPerPipeline,
    bodyLimitBytes: config.bodyLimitBytes,
    defaultExecutor: config.defaultExecutor,
    logger,
  });
  app.addHook('onClose', () => {
    commands.disconnect();
  });
  await app.register(gate, security);
  // The monitoring UI at `/`, beside the API at `/api`.
  await app.register(uiStatic);
  return { app, url: await listen(app, config) };
}

export function runWork(config: Config, redis: RedisConfig, logger: Logger): Promise<WorkService> {
  return startWork({
    connect: () => connect(redis),
    keys: makeKeys(config.prefix),
    executors: new ExecutorRegistry(
      [
        new LocalExecutor(),
        new NoopExecutor(),
        ...kubernetesExecutor(config, logger),
        ...containerExecutor(config, logger),
      ],
      config.defaultExecutor,
    ),
    concurrency: config.concurrency,
    executorLimits: config.executorLimits,
    maxEvents: config.maxEvents,
    maxLogLines: config.maxLogLines,
    logger,
  });
}

/**
 * The kubernetes executor, when configured. A cluster that was only detected (KUBECONFIG set, or
 * running in a pod) and cannot be used is skipped with a warning; one asked for is an error.
 */
function kubernetesExecutor(config: Config, logger: Logger): Executor[] {
  const k = config.kubernetes;
  if (!k) return [];
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

/** notif; its media and rules come from the file in CHAINR_NOTIFY_CONFIG (a ConfigError if invalid). */
export function runNotif(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
): Promise<NotifService> {
  return startNotif({
    connect: () => connect(redis),
    keys: makeKeys(config.prefix),
    settings: loadNotifySettings(config.notifyConfigPath),
    publicUrl: config.publicUrl,
    logger,
  });
}

export function runRecycle(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
): { close(): Promise<void> } {
  return startRecycle({
    connect: () => connect(redis),
    keys: makeKeys(config.prefix),
    maxEvents: config.maxEvents,
    logger,
    intervalMs: config.recycleIntervalMs,
    graceMs: config.recycleGraceMs,
    retentionMs: config.retentionMs,
  });
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
