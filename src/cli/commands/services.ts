/**
 * `chainr up | sched | work`: the services, started from configuration read here, once. Their
 * modules are loaded only when a service starts, so that the client commands start fast.
 */
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config, type RedisConfig } from '../../config.ts';
import type { Running } from '../../services/runtime.ts';

/** Time a stopping service has beyond CHAINR_SHUTDOWN_GRACE before it exits regardless. */
const SHUTDOWN_MARGIN_MS = 5000;

/** Runs a service until SIGTERM or SIGINT, then stops it cleanly. */
async function serve(
  name: string,
  start: (config: Config, logger: Logger) => Promise<Running>,
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`chainr: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { makeLogger } = await import('../../services/logger.ts');
  const { RedisNotInstalledError } = await import('../../process/private-redis.ts');
  const logger = makeLogger(config, name);
  let running: Running | undefined;
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // Stopped while starting: nothing to drain yet; the exit hooks stop what has started
    // (a private redis-server, local jobs).
    if (!running) {
      logger.info({ signal }, `${name} stopped while starting`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    logger.info({ signal }, `${name} shutting down`);
    // A stop that cannot finish (closing waits on an unreachable Redis) must not keep the process
    // alive for ever: give up after the running jobs' grace and a margin for handing them back.
    const limitMs = config.shutdownGraceMs + SHUTDOWN_MARGIN_MS;
    setTimeout(() => {
      logger.error({ limitMs }, `${name} did not stop in time: exiting`);
      process.exit(1);
    }, limitMs).unref();
    running.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    running = await start(config, logger);
  } catch (err) {
    if (err instanceof RedisNotInstalledError || err instanceof ConfigError) {
      process.stderr.write(`chainr: ${err.message}\n`);
      process.exit(err instanceof ConfigError ? 2 : 1);
    }
    logger.fatal({ err }, `${name} failed to start`);
    process.exit(1);
  }
}

function requireRedis(config: Config): RedisConfig {
  if (!config.redisConfigured) {
    throw new ConfigError(
      'set REDIS_URL (or REDIS_ADDR, or REDIS_ADDRS with REDIS_MASTER) for this service',
    );
  }
  return config.redis;
}

export function registerServices(program: Command): void {
  program
    .command('up')
    .description(
      'Run everything in one process: API and worker, each on a thread of its own (and a private Redis when REDIS_URL is unset)',
    )
    .addHelpText(
      'after',
      '\nExample:\n  PORT=8080 chainr up\n  REDIS_URL=redis://localhost:6379 chainr up',
    )
    .action(() =>
      serve('up', async (loaded, logger) => {
        // One machine, one user: local jobs are what `chainr up` is for, auth on or off.
        const config: Config = { ...loaded, localByDefault: true };
        const { openConfiguredArchive, runNotif, runRecycle, runSched } =
          await import('../../services/runtime.ts');
        const { runWorkThread } = await import('../../services/work/runtime.ts');
        const { startPrivateRedis } = await import('../../process/private-redis.ts');
        // Auth settings first: refuse an exposed, unauthenticated API before starting anything.
        const { loadSecurity } = await import('../../http/auth/security.ts');
        const security = loadSecurity(config);
        const own = config.redisConfigured ? undefined : await startPrivateRedis(config.dataDir);
        const redis: RedisConfig = own ? { addr: own.addr, password: own.password } : config.redis;
        const { keepOutOfLogs } = await import('../../services/logger.ts');
        keepOutOfLogs(own?.password);
        if (own)
          logger.info({ dataDir: config.dataDir }, `private redis-server started on ${own.addr}`);
        const work = await runWorkThread(config, redis, logger);
        const notif = await runNotif(config, redis, logger);
        // Each its own connection to the archive: recycle writes while sched reads.
        const recycle = await runRecycle(
          config,
          redis,
          logger,
          await openConfiguredArchive(config, true, logger),
        );
        // One HTTP port for everything: the API, the UI, and the probes and metrics of all four.
        const sched = await runSched(
          config,
          redis,
          logger,
          security,
          [work, notif, recycle],
          await openConfiguredArchive(config, true, logger),
        );
        process.stderr.write(`chainr is up: ${sched.url} (API at ${sched.url}/api)\n`);
        return {
          url: sched.url,
          async stop() {
            await sched.stop();
            await own?.stop();
          },
        };
      }),
    );

  program
    .command('recycle')
    .description(
      'Run the reconciler: repairs runs that stopped advancing, re-enqueues lost attempts, applies retention (needs REDIS_URL)',
    )
    .action(() =>
      serve('recycle', async (config, logger) => {
        const { openConfiguredArchive, runRecycle, serveWithOps } =
          await import('../../services/runtime.ts');
        const redis = requireRedis(config);
        const archive = await openConfiguredArchive(config, false, logger);
        return serveWithOps(
          config,
          redis,
          logger,
          await runRecycle(config, redis, logger, archive),
        );
      }),
    );

  program
    .command('sched')
    .description('Run the HTTP API (needs a shared Redis: REDIS_URL)')
    .action(() =>
      serve('sched', async (config, logger) => {
        const { runSched } = await import('../../services/runtime.ts');
        const sched = await runSched(config, requireRedis(config), logger);
        logger.info({ url: sched.url }, 'sched listening');
        return sched;
      }),
    );

  program
    .command('gate')
    .description(
      'Run the entry point: /api to the sched instances in CHAINR_UPSTREAMS, the rest to the UI; auth, limits, headers',
    )
    .addHelpText(
      'after',
      '\nExample:\n  CHAINR_UPSTREAMS=http://sched-a:8080,http://sched-b:8080 CHAINR_TOKENS_FILE=tokens.yaml HOST=0.0.0.0 chainr gate',
    )
    .action(() =>
      serve('gate', async (config, logger) => {
        const { loadSecurity } = await import('../../http/auth/security.ts');
        const { runGate } = await import('../../services/gate/service.ts');
        const { app, url } = await runGate(config, logger, loadSecurity(config));
        logger.info({ url, upstreams: config.gate.upstreams }, 'gate listening');
        return { url, stop: () => app.close() };
      }),
    );

  program
    .command('notif')
    .description(
      'Run a notifier that delivers notifications by the rules (needs a shared Redis: REDIS_URL; media in CHAINR_NOTIFY_CONFIG)',
    )
    .action(() =>
      serve('notif', async (config, logger) => {
        const { runNotif, serveWithOps } = await import('../../services/runtime.ts');
        const redis = requireRedis(config);
        return serveWithOps(config, redis, logger, await runNotif(config, redis, logger));
      }),
    );

  program
    .command('work')
    .description('Run a worker that executes ready jobs (needs a shared Redis: REDIS_URL)')
    .action(() =>
      serve('work', async (config, logger) => {
        const { serveWithOps } = await import('../../services/runtime.ts');
        const { runWork } = await import('../../services/work/runtime.ts');
        const redis = requireRedis(config);
        const work = await runWork(config, redis, logger);
        return serveWithOps(config, redis, logger, work);
      }),
    );
}
