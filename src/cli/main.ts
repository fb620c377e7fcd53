/** The chainr command: the services, started from configuration read here, once. */
import { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config, type RedisConfig } from '../config.ts';
import { makeLogger, runSched, runWork, type Running } from '../services/runtime.ts';
import { RedisNotInstalledError, startPrivateRedis } from './private-redis.ts';

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
  const logger = makeLogger(config, name);
  let running: Running;
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
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${name} shutting down`);
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
}

function requireRedis(config: Config): RedisConfig {
  if (!config.redisConfigured) {
    throw new ConfigError(
      'set REDIS_URL (or REDIS_ADDR, or REDIS_ADDRS with REDIS_MASTER) for this service',
    );
  }
  return config.redis;
}

const program = new Command('chainr')
  .description('Chains container jobs into pipelines and runs them, with a monitoring API.')
  .showHelpAfterError();

program
  .command('up')
  .description(
    'Run everything in one process: API and worker (and a private Redis when REDIS_URL is unset)',
  )
  .addHelpText(
    'after',
    '\nExample:\n  PORT=8080 chainr up\n  REDIS_URL=redis://localhost:6379 chainr up',
  )
  .action(() =>
    serve('up', async (config, logger) => {
      const own = config.redisConfigured ? undefined : await startPrivateRedis(config.dataDir);
      const redis: RedisConfig = own ? { addr: own.addr, password: own.password } : config.redis;
      if (own)
        logger.info({ dataDir: config.dataDir }, `private redis-server started on ${own.addr}`);
      const work = await runWork(config, redis, logger);
      const { app, url } = await runSched(config, redis, logger);
      process.stderr.write(`chainr is up: ${url} (API at ${url}/api)\n`);
      return {
        url,
        async stop() {
          await app.close();
          await work.close();
          await own?.stop();
        },
      };
    }),
  );

program
  .command('sched')
  .description('Run the HTTP API (needs a shared Redis: REDIS_URL)')
  .action(() =>
    serve('sched', async (config, logger) => {
      const { app, url } = await runSched(config, requireRedis(config), logger);
      logger.info({ url }, 'sched listening');
      return { url, stop: () => app.close() };
    }),
  );

program
  .command('work')
  .description('Run a worker that executes ready jobs (needs a shared Redis: REDIS_URL)')
  .action(() =>
    serve('work', async (config, logger) => {
      const work = await runWork(config, requireRedis(config), logger);
      logger.info({ concurrency: config.concurrency }, 'worker started');
      return { stop: () => work.close() };
    }),
  );

await program.parseAsync();
