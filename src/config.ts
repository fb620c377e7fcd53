/**
 * Configuration from the environment, read once at the entry point and passed down as values.
 * Every setting is documented in docs/CONFIGURATION.md.
 */
import { delimiter } from 'node:path';
import { parseDuration } from './core/durations.ts';

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
  /** How long a worker told to stop (SIGTERM) lets its running jobs finish before handing them back. */
  shutdownGraceMs: number;
  /** BullMQ's lock on a running attempt: a dead worker's attempts are re-delivered within two of these. */
  lockDurationMs: number;
  maxJobsPerPipeline: number;
  bodyLimitBytes: number;
  /** Entries kept in the event stream and in each job's log stream (approximate caps). */
  maxEvents: number;
  maxLogLines: number;
  /** Where `chainr up` keeps its private Redis data. */
  dataDir: string;
  logLevel: string;
  /** recycle: time between cycles, age before a run is examined, and how long ended runs stay. */
  recycleIntervalMs: number;
  recycleGraceMs: number;
  retentionMs: number;
  /** The notif service's configuration file (media, rules, retries), when there is one. */
  notifyConfigPath?: string;
  /** The address users reach chainr's UI at, for links to runs in notifications. */
  publicUrl: string;
  /** The kubernetes executor's settings; undefined when it is not enabled. */
  kubernetes?: KubernetesConfig;
  /** The container executor's settings; undefined when it is disabled. */
  container?: ContainerConfig;
  /** Auth, limits, headers and upstreams of the HTTP services (gate, sched, up). */
  gate: GateConfig;
  /** Health, readiness and metrics endpoints, and instance heartbeats. */
  ops: OpsConfig;
}

export interface OpsConfig {
  /** Where work, notif and recycle serve /healthz, /readyz and /metrics; port 0: a free one. */
  host: string;
  port: number;
  /** How often an instance renews its registration; it counts as gone after three missed. */
  heartbeatIntervalMs: number;
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

const DURATION = /^([0-9]+(ms|s|m|h))+$/;

/** A duration such as `30s` or `168h`; `0` where zero makes sense (retention off). */
function duration(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const raw = nonEmpty(env[name]) ?? fallback;
  if (raw === '0') return 0;
  if (!DURATION.test(raw)) {
    throw new ConfigError(
      `${name}: expected a duration such as "30s", "15m" or "168h", got "${raw}"`,
    );
  }
  return parseDuration(raw);
}

/** At least a second: BullMQ renews the lock every half of it, and a shorter one is lost to any pause. */
function lockDuration(env: NodeJS.ProcessEnv): number {
  const ms = duration(env, 'CHAINR_LOCK_DURATION', '30s');
  if (ms < 1000) throw new ConfigError('CHAINR_LOCK_DURATION: expected at least 1s');
  return ms;
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

/** CHAINR_PUBLIC_URL, else the address this process listens on (loopback for a wildcard). */
function publicUrl(raw: string | undefined, host: string, port: number): string {
  if (raw === undefined) {
    const loopback = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    return `http://${loopback.includes(':') ? `[${loopback}]` : loopback}:${port}`;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`CHAINR_PUBLIC_URL: expected an http:// or https:// URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`CHAINR_PUBLIC_URL: expected an http:// or https:// URL, got "${raw}"`);
  return raw.replace(/\/+$/, '');
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
  const host = nonEmpty(env.HOST) ?? '127.0.0.1';
  const port = integer(env, 'PORT', 8080);
  const heartbeatIntervalMs = duration(env, 'CHAINR_HEARTBEAT_INTERVAL', '5s');
  if (heartbeatIntervalMs === 0)
    throw new ConfigError(
      'CHAINR_HEARTBEAT_INTERVAL: expected a duration above zero, such as "5s"',
    );
  return {
    host,
    port,
    redis,
    redisConfigured: Boolean(redis.url ?? redis.addr ?? redis.addrs),
    prefix: nonEmpty(env.CHAINR_PREFIX) ?? 'chainr:',
    defaultExecutor: nonEmpty(env.CHAINR_EXECUTOR) ?? 'local',
    executorLimits: executorLimits(env.CHAINR_EXECUTOR_LIMITS),
    concurrency: integer(env, 'CHAINR_CONCURRENCY', 8, 1),
    shutdownGraceMs: duration(env, 'CHAINR_SHUTDOWN_GRACE', '10s'),
    lockDurationMs: lockDuration(env),
    maxJobsPerPipeline: integer(env, 'CHAINR_MAX_JOBS', 1000, 1),
    bodyLimitBytes: integer(env, 'CHAINR_BODY_LIMIT', 1024 * 1024, 1),
    maxEvents: integer(env, 'CHAINR_MAX_EVENTS', 100_000, 100),
    maxLogLines: integer(env, 'CHAINR_MAX_LOG_LINES', 10_000, 10),
    dataDir: nonEmpty(env.CHAINR_DATA_DIR) ?? '.chainr',
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    recycleIntervalMs: duration(env, 'CHAINR_RECYCLE_INTERVAL', '10s'),
    recycleGraceMs: duration(env, 'CHAINR_RECYCLE_GRACE', '30s'),
    retentionMs: duration(env, 'CHAINR_RETENTION', '168h'),
    notifyConfigPath: nonEmpty(env.CHAINR_NOTIFY_CONFIG),
    publicUrl: publicUrl(nonEmpty(env.CHAINR_PUBLIC_URL), host, port),
    kubernetes: kubernetesConfig(env, nonEmpty(env.CHAINR_EXECUTOR) ?? 'local'),
    container: containerConfig(env, nonEmpty(env.CHAINR_EXECUTOR) ?? 'local'),
    gate: gateConfig(env),
    ops: {
      host: nonEmpty(env.CHAINR_OPS_HOST) ?? host,
      port: integer(env, 'CHAINR_OPS_PORT', 9090),
      heartbeatIntervalMs,
    },
  };
}

// ---- Kubernetes executor (docs/CONFIGURATION.md, "Kubernetes") ----

export interface KubernetesConfig {
  /** Asked for (CHAINR_KUBERNETES=1 or the default executor): failing to connect is an error. */
  explicit: boolean;
  /** KUBECONFIG's files; none: the in-cluster service account, else ~/.kube/config. */
  kubeconfigPaths: string[];
  context?: string;
  namespace?: string;
  inCluster: boolean;
  imagePullGraceMs: number;
  unschedulableGraceMs: number;
  ttlSecondsAfterFinished: number;
  instance?: string;
}

/**
 * Enabled by CHAINR_KUBERNETES=1 or CHAINR_EXECUTOR=kubernetes, and detected (when
 * CHAINR_KUBERNETES is unset) from KUBECONFIG or running in a pod; CHAINR_KUBERNETES=0 disables it.
 */
function kubernetesConfig(
  env: NodeJS.ProcessEnv,
  defaultExecutor: string,
): KubernetesConfig | undefined {
  const flag = nonEmpty(env.CHAINR_KUBERNETES);
  if (flag !== undefined && !['0', '1', 'true', 'false'].includes(flag))
    throw new ConfigError(`CHAINR_KUBERNETES: expected 1 or 0, got "${flag}"`);
  const explicit = flag === '1' || flag === 'true' || defaultExecutor === 'kubernetes';
  const inCluster = Boolean(nonEmpty(env.KUBERNETES_SERVICE_HOST));
  const kubeconfigPaths = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  const detected = flag === undefined && (kubeconfigPaths.length > 0 || inCluster);
  if (flag === '0' || flag === 'false' || !(explicit || detected)) return undefined;
  return {
    explicit,
    kubeconfigPaths,
    context: nonEmpty(env.CHAINR_KUBERNETES_CONTEXT),
    namespace: nonEmpty(env.CHAINR_KUBERNETES_NAMESPACE),
    inCluster,
    imagePullGraceMs: duration(env, 'CHAINR_KUBERNETES_IMAGE_PULL_GRACE', '2m'),
    unschedulableGraceMs: duration(env, 'CHAINR_KUBERNETES_UNSCHEDULABLE_GRACE', '5m'),
    ttlSecondsAfterFinished: Math.ceil(duration(env, 'CHAINR_KUBERNETES_JOB_TTL', '1h') / 1000),
    instance: nonEmpty(env.CHAINR_KUBERNETES_INSTANCE),
  };
}

// ---- Container executor (docs/CONFIGURATION.md, "Containers") ----

export interface ContainerConfig {
  /** Asked for (CHAINR_CONTAINER=1, an engine named, or the default executor): no engine is an error. */
  explicit: boolean;
  /** podman, docker or a path; undefined: whichever of podman and docker works. */
  engine?: string;
  stopGraceSeconds: number;
  /** Give containers the engine's default network (else none). */
  network: boolean;
}

/** On unless CHAINR_CONTAINER=0; registered when an engine is found (work-runtime.ts). */
function containerConfig(
  env: NodeJS.ProcessEnv,
  defaultExecutor: string,
): ContainerConfig | undefined {
  const flag = nonEmpty(env.CHAINR_CONTAINER);
  if (flag !== undefined && !['0', '1', 'true', 'false'].includes(flag))
    throw new ConfigError(`CHAINR_CONTAINER: expected 1 or 0, got "${flag}"`);
  if (flag === '0' || flag === 'false') return undefined;
  const engine = nonEmpty(env.CHAINR_CONTAINER_ENGINE);
  return {
    explicit:
      flag === '1' || flag === 'true' || engine !== undefined || defaultExecutor === 'container',
    engine,
    stopGraceSeconds: Math.ceil(duration(env, 'CHAINR_CONTAINER_STOP_GRACE', '10s') / 1000),
    network: nonEmpty(env.CHAINR_CONTAINER_NETWORK) === '1',
  };
}

// ---- gate: auth, limits, headers, upstreams (docs/CONFIGURATION.md, "Security" and "Gate") ----

export interface GateConfig {
  /** YAML or JSON file of {name, role, sha256}; auth is on when it is set. */
  tokensFile?: string;
  /** CHAINR_ALLOW_UNAUTHENTICATED=1: listen on a non-loopback address without tokens anyway. */
  allowUnauthenticated: boolean;
  /** Origins allowed to call the API from a browser (CORS); none: CORS off. */
  corsOrigins: string[];
  /** Requests per second per token or address, and the burst; undefined: no rate limit. */
  rateLimit?: { perSecond: number; burst: number };
  /** The sched instances `chainr gate` proxies /api to. */
  upstreams: string[];
  /** How often `chainr gate` checks its upstreams (GET /api). */
  healthIntervalMs: number;
}

function gateConfig(env: NodeJS.ProcessEnv): GateConfig {
  const tokensFile = nonEmpty(env.CHAINR_TOKENS_FILE);
  const flag = nonEmpty(env.CHAINR_ALLOW_UNAUTHENTICATED);
  if (flag !== undefined && !['0', '1', 'true', 'false'].includes(flag))
    throw new ConfigError(`CHAINR_ALLOW_UNAUTHENTICATED: expected 1 or 0, got "${flag}"`);
  const list = (raw: string | undefined) =>
    (raw ?? '')
      .split(',')
      .map((s) => s.trim().replace(/\/+$/, ''))
      .filter(Boolean);
  const upstreams = list(env.CHAINR_UPSTREAMS);
  for (const u of [...upstreams, ...list(env.CHAINR_CORS_ORIGINS)]) {
    if (!/^https?:\/\/[^/\s]+$/.test(u))
      throw new ConfigError(
        `${upstreams.includes(u) ? 'CHAINR_UPSTREAMS' : 'CHAINR_CORS_ORIGINS'}: expected http(s)://host[:port] entries, got "${u}"`,
      );
  }
  // Rate limiting is on by default when auth is on, and whenever CHAINR_RATE_LIMIT is set.
  const perSecond = integer(env, 'CHAINR_RATE_LIMIT', tokensFile ? 50 : 0);
  const burst = integer(env, 'CHAINR_RATE_BURST', Math.max(1, perSecond * 4), 1);
  return {
    tokensFile,
    allowUnauthenticated: flag === '1' || flag === 'true',
    corsOrigins: list(env.CHAINR_CORS_ORIGINS),
    rateLimit: perSecond > 0 ? { perSecond, burst } : undefined,
    upstreams,
    healthIntervalMs: integer(env, 'CHAINR_HEALTH_INTERVAL_MS', 2000, 100),
  };
}
