/**
 * Composes the services from configuration: what `chainr up`, `chainr sched`, `chainr work` and
 * the others run, each with its liveness (heartbeats, /healthz, /readyz, /metrics). The worker
 * itself is composed in work/runtime.ts. Each service's modules are imported when it starts, so
 * that a process loads only what it runs (the archive drivers only with an archive, the
 * notification media only in notif, the API and the UI only in sched).
 */
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { archiveOf, executorRefusal, type Config, type RedisConfig } from '../config.ts';
import { connect } from '../store/connection.ts';
import { makeKeys } from '../store/keys.ts';
import { auth } from '../http/auth/plugin.ts';
import { loadSecurity, type SecuritySettings } from '../http/auth/security.ts';
import { loadTokens } from '../http/auth/tokens.ts';
import { startLiveness, type ServiceHandle } from '../http/ops/liveness.ts';
import { registerOpsRoutes } from '../http/ops/routes.ts';
import { listen, startOpsServer } from '../http/ops/server.ts';
import { RunDirectories } from '../executors/workspaces.ts';
import { openArtifactStore } from '../artifacts/open.ts';
import type { ArchiveStore } from '../archive/store.ts';

/** Runs archived per recycle cycle at most. */
const ARCHIVE_PER_CYCLE = 5000;

/**
 * The archive this process reads and writes, its schema migrated; undefined when there is none.
 * `oneMachine`: `chainr up`, whose default is a SQLite file in the data directory.
 */
export async function openConfiguredArchive(
  config: Config,
  oneMachine: boolean,
  logger: Logger,
): Promise<ArchiveStore | undefined> {
  const archive = archiveOf(config, oneMachine);
  if (!archive) return undefined;
  const { openArchive } = await import('../archive/open.ts');
  const store = await openArchive(archive);
  logger.info(
    archive.backend === 'sqlite' ? { archive: archive.path } : { archive: 'postgres' },
    'archive opened',
  );
  return store;
}

export interface Running {
  /** The HTTP address, when this process serves HTTP. */
  url?: string;
  stop(): Promise<void>;
}

/**
 * The API, with /healthz, /readyz and /metrics on its port for itself and the services started
 * alongside it in this process (`chainr up`), which it stops after itself.
 */
export async function runSched(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
  /** Auth, limits and headers (the auth plugin); loaded from config when not given. */
  security: SecuritySettings = loadSecurity(config),
  alongside: ServiceHandle[] = [],
  /** Archived runs, read beside the live ones: `chainr up`'s; otherwise the one configured. */
  given?: ArchiveStore,
): Promise<Required<Running>> {
  const commands = connect(redis, { commandTimeoutMs: config.redisTimeoutMs });
  const artifacts = await openArtifactStore(config.artifacts);
  const archive = given ?? (await openConfiguredArchive(config, false, logger));
  const { buildSched } = await import('./sched/service.ts');
  const app: FastifyInstance = await buildSched({
    redis: commands,
    connectBlocking: () => connect(redis),
    keys: makeKeys(config.prefix),
    maxEvents: config.maxEvents,
    maxLogLines: config.maxLogLines,
    maxJobsPerPipeline: config.maxJobsPerPipeline,
    bodyLimitBytes: config.bodyLimitBytes,
    httpTimeouts: config.httpTimeouts,
    defaultExecutor: config.defaultExecutor,
    refuseExecutor: (executor) => executorRefusal(config, executor),
    workspaceAccessModes: config.workspaceVolume.accessModes,
    replication: config.replication,
    artifacts,
    archive,
    streamLimits: config.streamLimits,
    logger,
  });
  app.addHook('onClose', async () => {
    commands.disconnect();
    artifacts.close?.();
    await archive?.close();
  });
  await app.register(auth, security);
  const liveness = startLiveness({
    ...livenessSettings(config, commands, logger),
    services: [{ service: 'sched', running: () => true, stop: () => app.close() }, ...alongside],
  });
  registerOpsRoutes(app, liveness.routes);
  // The monitoring UI at `/`, beside the API at `/api`.
  await app.register((await import('../http/ui-static.ts')).uiStatic);
  return { url: await listen(app, config.host, config.port), stop: () => liveness.stop() };
}

function livenessSettings(config: Config, redis: Redis, logger: Logger) {
  return {
    redis,
    keys: makeKeys(config.prefix),
    heartbeatIntervalMs: config.ops.heartbeatIntervalMs,
    defaultExecutor: config.defaultExecutor,
    logger,
  };
}

/** work, notif or recycle on its own: /healthz, /readyz and /metrics on the ops server. */
export async function serveWithOps(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
  service: ServiceHandle,
): Promise<Required<Running>> {
  const connection = connect(redis, { commandTimeoutMs: config.redisTimeoutMs });
  const liveness = startLiveness({
    ...livenessSettings(config, connection, logger),
    services: [service],
  });
  const tokens = config.gate.tokensFile ? loadTokens(config.gate.tokensFile) : [];
  const ops = await startOpsServer({
    ...liveness.routes,
    host: config.ops.host,
    port: config.ops.port,
    tokens,
    allowedHosts: config.gate.allowedHosts,
    httpTimeouts: config.httpTimeouts,
    logger,
  });
  return {
    url: ops.url,
    async stop() {
      await liveness.stop();
      await ops.app.close();
      connection.disconnect();
    },
  };
}

/** notif; its media and rules come from the file in CHAINR_NOTIFY_CONFIG (a ConfigError if invalid). */
export async function runNotif(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
): Promise<ServiceHandle> {
  const { loadNotifySettings } = await import('./notif/load-config.ts');
  const { startNotif } = await import('./notif/service.ts');
  // Started means its stream consumer is reading: it stays ready until it stops.
  const notif = await startNotif({
    connect: () => connect(redis),
    keys: makeKeys(config.prefix),
    settings: loadNotifySettings(config.notifyConfigPath),
    publicUrl: config.publicUrl,
    logger,
  });
  return { service: 'notif', running: () => true, stop: () => notif.close() };
}

export async function runRecycle(
  config: Config,
  redis: RedisConfig,
  logger: Logger,
  /** Where ended runs move after CHAINR_ARCHIVE_WINDOW; without one, retention deletes them. */
  archive?: ArchiveStore,
): Promise<ServiceHandle> {
  const { startRecycle } = await import('./recycle/service.ts');
  const k = config.kubernetes;
  const recycle = startRecycle({
    connect: () => connect(redis),
    keys: makeKeys(config.prefix),
    maxEvents: config.maxEvents,
    logger,
    intervalMs: config.recycleIntervalMs,
    graceMs: config.recycleGraceMs,
    retentionMs: config.retentionMs,
    ...(archive && {
      archive: {
        archive,
        windowMs: config.archiveWindowMs,
        perCycle: ARCHIVE_PER_CYCLE,
        retention: config.archiveRetention,
      },
    }),
    // The filesystem artifact store keeps a directory per run too (<uid>/<job>/...), served as
    // long as the run is, archived or not.
    runDirectories: [
      new RunDirectories(config.workspacesDir),
      ...(config.artifacts.s3
        ? []
        : [Object.assign(new RunDirectories(config.artifacts.dir), { keptWhileArchived: true })]),
    ],
    ...(k && {
      kubernetes: {
        connect: async () =>
          (await import('../executors/kubernetes/client.ts')).connectKubernetes(k),
        ...(k.instance !== undefined && { instance: k.instance }),
      },
    }),
  });
  logger.info({ intervalMs: config.recycleIntervalMs }, 'recycle started');
  return {
    service: 'recycle',
    running: () => true,
    async stop() {
      await recycle.close();
      await archive?.close();
    },
  };
}
