/**
 * Configuration from the environment, read once at the entry point and passed down as values.
 * Every setting is documented in docs/CONFIGURATION.md.
 */

export interface RedisConfig {
  /** redis:// or rediss:// URL; takes precedence over the other settings. */
  url?: string;
  /** host:port of a single Redis. */
  addr?: string;
  /** host:port list of Sentinels, used with `master`. */
  addrs?: string[];
  master?: string;
  password?: string;
  db?: number;
}

export interface Config {
  host: string;
  port: number;
  redis: RedisConfig;
  /** True when no Redis is configured: `chainr up` starts a private one. */
  redisConfigured: boolean;
  /** Prefix of every Redis key chainr writes. */
  prefix: string;
  /** The executor of jobs that name none. */
  defaultExecutor: string;
  /** Deployment-wide limits of jobs running at once, per executor (`kubernetes=50,local=4`). */
  executorLimits: Record<string, number>;
  /** Jobs one worker process runs at once. */
  concurrency: number;
  maxJobsPerPipeline: number;
  bodyLimitBytes: number;
  /** Entries kept in the event stream and in each job's log stream (approximate caps). */
  maxEvents: number;
  maxLogLines: number;
  /** Where `chainr up` keeps its private Redis data. */
  dataDir: string;
  logLevel: string;
}

export class ConfigError extends Error {}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`${name}: expected an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function executorLimits(raw: string | undefined): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const term of (raw ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)) {
    const [name, value] = term.split('=');
    const limit = Number(value);
    if (!name || !Number.isInteger(limit) || limit < 1) {
      throw new ConfigError(
        `CHAINR_EXECUTOR_LIMITS: expected executor=limit pairs such as "kubernetes=50,local=4", got "${term}"`,
      );
    }
    limits[name.trim()] = limit;
  }
  return limits;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const addrs = nonEmpty(env.REDIS_ADDRS)
    ?.split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const redis: RedisConfig = {
    url: nonEmpty(env.REDIS_URL),
    addr: nonEmpty(env.REDIS_ADDR),
    addrs,
    master: nonEmpty(env.REDIS_MASTER),
    password: nonEmpty(env.REDIS_PASSWORD),
    db: env.REDIS_DB ? integer(env, 'REDIS_DB', 0) : undefined,
  };
  if (redis.addrs && !redis.master) {
    throw new ConfigError('REDIS_ADDRS lists Sentinels: set REDIS_MASTER to the master name too');
  }
  return {
    host: nonEmpty(env.HOST) ?? '127.0.0.1',
    port: integer(env, 'PORT', 8080),
    redis,
    redisConfigured: Boolean(redis.url ?? redis.addr ?? redis.addrs),
    prefix: nonEmpty(env.CHAINR_PREFIX) ?? 'chainr:',
    defaultExecutor: nonEmpty(env.CHAINR_EXECUTOR) ?? 'local',
    executorLimits: executorLimits(env.CHAINR_EXECUTOR_LIMITS),
    concurrency: integer(env, 'CHAINR_CONCURRENCY', 8, 1),
    maxJobsPerPipeline: integer(env, 'CHAINR_MAX_JOBS', 1000, 1),
    bodyLimitBytes: integer(env, 'CHAINR_BODY_LIMIT', 1024 * 1024, 1),
    maxEvents: integer(env, 'CHAINR_MAX_EVENTS', 100_000, 100),
    maxLogLines: integer(env, 'CHAINR_MAX_LOG_LINES', 10_000, 10),
    dataDir: nonEmpty(env.CHAINR_DATA_DIR) ?? '.chainr',
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
  };
}
