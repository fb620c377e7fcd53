/** Composes the services from configuration: what `chainr up`, `chainr sched` and `chainr work` run. */
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import type { Config, RedisConfig } from '../config.ts';
import { LocalExecutor } from '../executors/local.ts';
import { NoopExecutor } from '../executors/noop.ts';
import { ExecutorRegistry } from '../executors/registry.ts';
import { connect } from '../store/connection.ts';
import { makeKeys } from '../store/keys.ts';
import { buildSched } from './sched/app.ts';
import { uiStatic } from './ui-static.ts';
import { startWork, type WorkService } from './work.ts';

export interface Running {
  /** The HTTP address, when this process serves HTTP. */
  url?: string;
  stop(): Promise<void>;
}

export function makeLogger(config: Config, service: string): Logger {
  return pino({ level: config.logLevel, base: { service, pid: process.pid } });
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
  // The monitoring UI at `/`, beside the API at `/api`.
  await app.register(uiStatic);
  return { app, url: await listen(app, config) };
}

export function runWork(config: Config, redis: RedisConfig, logger: Logger): Promise<WorkService> {
  return startWork({
    connect: () => connect(redis),
    keys: makeKeys(config.prefix),
    executors: new ExecutorRegistry(
      [new LocalExecutor(), new NoopExecutor()],
      config.defaultExecutor,
    ),
    concurrency: config.concurrency,
    executorLimits: config.executorLimits,
    maxEvents: config.maxEvents,
    maxLogLines: config.maxLogLines,
    logger,
  });
}
