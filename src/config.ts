/**
 * Configuration from the environment, read once at the entry point and passed down as values.
 * Every setting is documented in docs/CONFIGURATION.md.
 */
import { delimiter, join } from 'node:path';
import { parseDuration } from './core/durations.ts';
import { DEFAULT_LOG_LIMITS } from './services/work/log-buffer.ts';
import { MAX_ENTRIES } from './core/limits.ts';
import {
  isTerminalRun,
  RUN_STATUSES,
  WORKSPACE_ACCESS_MODES,
  type RunStatus,
  type WorkspaceAccessMode,
} from './core/types.ts';
import {
  DEFAULT_WORKSPACE_VOLUME,
  type WorkspaceVolumeDefaults,
} from './executors/kubernetes/workspace-claim.ts';
import type { ReplicaConfirmation } from './store/replication.ts';
import type { HttpTimeouts } from './http/timeouts.ts';
import type { ArtifactConfig } from './artifacts/open.ts';
import type { ArchiveConfig } from './archive/open.ts';
import type { ArchiveRetention } from './archive/store.ts';
import { DEFAULT_ARTIFACT_LIMITS } from './artifacts/transfer.ts';
import {
  DEFAULT_STREAM_LIMITS,
  MIN_STREAM_BUFFER_BYTES,
  type StreamLimitSettings,
} from './services/sched/stream-limits.ts';

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
  /** Replicas that must hold a new run before the API acknowledges it, and the wait's limit. */
  replication: ReplicaConfirmation;
  /** How long the API and the probes wait for a Redis reply before answering 503. */
  redisTimeoutMs: number;
  /** Followed logs and event streams one sched serves at once, in all and per client. */
  streamLimits: StreamLimitSettings;
  /** Prefix of every Redis key chainr writes. */
  prefix: string;
  /** The executor of jobs that name none. */
  defaultExecutor: string;
  /** The executors offered (CHAINR_EXECUTORS); undefined: those available, `local` as below. */
  executors?: string[];
  /** `local` is offered when CHAINR_EXECUTORS is unset: not when auth is on; `chainr up` turns it on. */
  localByDefault: boolean;
  /** The local executor: the user its jobs run as (CHAINR_LOCAL_USER), and its directory. */
  local: { user?: string; workDir?: string };
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
  /** How long a client may take to send a request's headers, and the whole request. */
  httpTimeouts: HttpTimeouts;
  /** Entries kept in the event stream and in each job's log stream (approximate caps). */
  maxEvents: number;
  maxLogLines: number;
  /** Bytes kept of one log line, and of one attempt's log (the rest is dropped, with a marker). */
  logLimits: { maxLineBytes: number; maxJobBytes: number };
  /** Where `chainr up` keeps its private Redis data. */
  dataDir: string;
  /** Where the local and container executors make the runs' workspaces. */
  workspacesDir: string;
  /** Defaults of the runs' workspace claims on Kubernetes (CHAINR_KUBERNETES_WORKSPACE_*). */
  workspaceVolume: WorkspaceVolumeDefaults;
  /** The worker's secrets, for local and container jobs (CHAINR_SECRETS_DIR, CHAINR_SECRETS_FILE). */
  secrets: { dir?: string; file?: string };
  /** Where jobs' artifacts are stored, and their limits. */
  artifacts: ArtifactConfig;
  /**
   * The SQL archive of ended runs (CHAINR_ARCHIVE_URL); 'off': none; undefined: not set, which is
   * none, except for `chainr up`, whose default is a SQLite file in the data directory
   * (archiveOf).
   */
  archive?: ArchiveConfig | 'off';
  /** How long an ended run stays in Redis before the archive takes it (CHAINR_ARCHIVE_WINDOW). */
  archiveWindowMs: number;
  /**
   * How long ended runs stay in the archive, by status (CHAINR_ARCHIVE_MAX_AGE,
   * CHAINR_ARCHIVE_KEEP); a status without a rule is kept for ever.
   */
  archiveRetention: ArchiveRetention;
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

const ENDED_STATUSES = RUN_STATUSES.filter(isTerminalRun);

/**
 * A value for each ended run status: `2160h` for all, `FAILED=8760h,SUCCESSFUL=720h` by status,
 * or both (`FAILED=8760h,720h`: the bare value for the statuses not named). Unset: none.
 */
function perEndedStatus<T>(
  env: NodeJS.ProcessEnv,
  name: string,
  parse: (raw: string) => T | undefined,
  example: string,
): Partial<Record<RunStatus, T>> {
  const values: Partial<Record<RunStatus, T>> = {};
  let others: T | undefined;
  for (const term of commaList(env[name])) {
    const eq = term.indexOf('=');
    const status = eq < 0 ? undefined : term.slice(0, eq).trim();
    const value = parse(eq < 0 ? term : term.slice(eq + 1).trim());
    if (status !== undefined && !(ENDED_STATUSES as string[]).includes(status))
      throw new ConfigError(
        `${name}: "${status}" is not the status of an ended run (${ENDED_STATUSES.join(', ')})`,
      );
    if (value === undefined) throw new ConfigError(`${name}: expected ${example}, got "${term}"`);
    if (status === undefined) others = value;
    else values[status as RunStatus] = value;
  }
  if (others !== undefined) for (const status of ENDED_STATUSES) values[status] ??= others;
  return values;
}

/** The archive's retention rules: an age and a count of newest runs kept, each by status. */
function archiveRetention(env: NodeJS.ProcessEnv): ArchiveRetention {
  const ages = perEndedStatus(
    env,
    'CHAINR_ARCHIVE_MAX_AGE',
    (raw) => (DURATION.test(raw) && parseDuration(raw) > 0 ? parseDuration(raw) : undefined),
    'a duration such as "2160h", or by status: "FAILED=8760h,SUCCESSFUL=720h"',
  );
  const keeps = perEndedStatus(
    env,
    'CHAINR_ARCHIVE_KEEP',
    (raw) => (/^[0-9]+$/.test(raw) ? Number(raw) : undefined),
    'a count such as "100000", or by status: "FAILED=1000000,SUCCESSFUL=100000"',
  );
  const rules: ArchiveRetention = {};
  for (const status of ENDED_STATUSES) {
    const maxAgeMs = ages[status];
    const keep = keeps[status];
    if (maxAgeMs === undefined && keep === undefined) continue;
    rules[status] = {
      ...(maxAgeMs !== undefined && { maxAgeMs }),
      ...(keep !== undefined && { keep }),
    };
  }
  return rules;
}

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

function positiveDuration(env: NodeJS.ProcessEnv, name: string, fallback: string): number {
  const ms = duration(env, name, fallback);
  if (ms === 0)
    throw new ConfigError(`${name}: expected a duration above zero, such as "${fallback}"`);
  return ms;
}

/** At least a second: BullMQ renews the lock every half of it, and a shorter one is lost to any pause. */
function lockDuration(env: NodeJS.ProcessEnv): number {
  const ms = duration(env, 'CHAINR_LOCK_DURATION', '30s');
  if (ms < 1000) throw new ConfigError('CHAINR_LOCK_DURATION: expected at least 1s');
  return ms;
}

/** Up to MAX_ENTRIES: the parser refuses larger maps before it looks at the jobs. */
function maxJobs(env: NodeJS.ProcessEnv): number {
  const limit = integer(env, 'CHAINR_MAX_JOBS', 1000, 1);
  if (limit > MAX_ENTRIES)
    throw new ConfigError(`CHAINR_MAX_JOBS: expected at most ${MAX_ENTRIES}, got ${limit}`);
  return limit;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** The items of a comma-separated setting, trimmed, empty ones left out. */
function commaList(raw: string | undefined): string[] {
  return (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function executorLimits(raw: string | undefined): Record<string, number> {
  const limits: Record<string, number> = {};
  for (const term of commaList(raw)) {
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

export const EXECUTORS = ['local', 'container', 'kubernetes', 'noop'] as const;

function executorList(raw: string | undefined): string[] | undefined {
  const names = commaList(raw);
  if (names.length === 0) return undefined;
  for (const name of names) {
    if (!(EXECUTORS as readonly string[]).includes(name))
      throw new ConfigError(
        `CHAINR_EXECUTORS: "${name}" is not an executor (expected a list of ${EXECUTORS.join(', ')})`,
      );
  }
  return names;
}

/** Whether this deployment offers `executor`: CHAINR_EXECUTORS, else local by its default. */
export function offers(config: Config, executor: string): boolean {
  if (config.executors) return config.executors.includes(executor);
  return executor !== 'local' || config.localByDefault;
}

/** Why a job on `executor` is refused here, or undefined when it is offered. */
export function executorRefusal(config: Config, executor: string): string | undefined {
  if (offers(config, executor)) return undefined;
  if (config.executors)
    return `executor "${executor}" is not offered by this deployment (CHAINR_EXECUTORS: ${config.executors.join(', ')})`;
  return "the local executor is off when auth is on (CHAINR_TOKENS_FILE): a local job runs on a worker's host with its access; name another executor, or offer local with CHAINR_EXECUTORS";
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
  const addrsSetting = nonEmpty(env.REDIS_ADDRS);
  const addrs = addrsSetting === undefined ? undefined : commaList(addrsSetting);
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
  const heartbeatIntervalMs = positiveDuration(env, 'CHAINR_HEARTBEAT_INTERVAL', '1s');
  const executors = executorList(env.CHAINR_EXECUTORS);
  const replication = {
    // With Sentinel there are replicas to fail over to, and a write only they lack is lost then.
    replicas: integer(env, 'CHAINR_WAIT_REPLICAS', redis.addrs && !redis.url ? 1 : 0),
    timeoutMs: positiveDuration(env, 'CHAINR_WAIT_TIMEOUT', '2s'),
  };
  const redisTimeoutMs = positiveDuration(env, 'CHAINR_REDIS_TIMEOUT', '3s');
  // WAIT is answered only at its own timeout when the replicas lag: a shorter command timeout
  // would turn every such submission into a 503 before WAIT could say how many confirmed.
  if (replication.replicas > 0 && redisTimeoutMs <= replication.timeoutMs)
    throw new ConfigError(
      `CHAINR_REDIS_TIMEOUT (${redisTimeoutMs} ms) must be longer than CHAINR_WAIT_TIMEOUT (${replication.timeoutMs} ms)`,
    );
  return {
    host,
    port,
    redis,
    redisConfigured: Boolean(redis.url ?? redis.addr ?? redis.addrs),
    replication,
    redisTimeoutMs,
    streamLimits: {
      total: integer(env, 'CHAINR_MAX_STREAMS', DEFAULT_STREAM_LIMITS.total, 1),
      perClient: integer(env, 'CHAINR_MAX_STREAMS_PER_CLIENT', DEFAULT_STREAM_LIMITS.perClient, 1),
      bufferBytes: integer(
        env,
        'CHAINR_STREAM_BUFFER_BYTES',
        DEFAULT_STREAM_LIMITS.bufferBytes,
        MIN_STREAM_BUFFER_BYTES,
      ),
    },
    prefix: nonEmpty(env.CHAINR_PREFIX) ?? 'chainr:',
    defaultExecutor: nonEmpty(env.CHAINR_EXECUTOR) ?? 'local',
    executors,
    localByDefault: !nonEmpty(env.CHAINR_TOKENS_FILE),
    local: { user: nonEmpty(env.CHAINR_LOCAL_USER), workDir: nonEmpty(env.CHAINR_WORK_DIR) },
    executorLimits: executorLimits(env.CHAINR_EXECUTOR_LIMITS),
    concurrency: integer(env, 'CHAINR_CONCURRENCY', 8, 1),
    shutdownGraceMs: duration(env, 'CHAINR_SHUTDOWN_GRACE', '10s'),
    lockDurationMs: lockDuration(env),
    maxJobsPerPipeline: maxJobs(env),
    bodyLimitBytes: integer(env, 'CHAINR_BODY_LIMIT', 1024 * 1024, 1),
    httpTimeouts: httpTimeouts(env),
    maxEvents: integer(env, 'CHAINR_MAX_EVENTS', 100_000, 100),
    maxLogLines: integer(env, 'CHAINR_MAX_LOG_LINES', 10_000, 10),
    logLimits: {
      maxLineBytes: integer(env, 'CHAINR_LOG_LINE_BYTES', DEFAULT_LOG_LIMITS.maxLineBytes, 256),
      maxJobBytes: integer(env, 'CHAINR_LOG_JOB_BYTES', DEFAULT_LOG_LIMITS.maxJobBytes, 1024),
    },
    dataDir: nonEmpty(env.CHAINR_DATA_DIR) ?? '.chainr',
    workspacesDir:
      nonEmpty(env.CHAINR_WORKSPACES_DIR) ??
      join(nonEmpty(env.CHAINR_DATA_DIR) ?? '.chainr', 'workspaces'),
    workspaceVolume: workspaceVolumeDefaults(env),
    secrets: { dir: nonEmpty(env.CHAINR_SECRETS_DIR), file: nonEmpty(env.CHAINR_SECRETS_FILE) },
    artifacts: artifactConfig(env),
    archive: archiveConfig(env.CHAINR_ARCHIVE_URL),
    archiveWindowMs: duration(env, 'CHAINR_ARCHIVE_WINDOW', '24h'),
    archiveRetention: archiveRetention(env),
    logLevel: nonEmpty(env.LOG_LEVEL) ?? 'info',
    recycleIntervalMs: duration(env, 'CHAINR_RECYCLE_INTERVAL', '10s'),
    recycleGraceMs: duration(env, 'CHAINR_RECYCLE_GRACE', '30s'),
    retentionMs: duration(env, 'CHAINR_RETENTION', '168h'),
    notifyConfigPath: nonEmpty(env.CHAINR_NOTIFY_CONFIG),
    publicUrl: publicUrl(nonEmpty(env.CHAINR_PUBLIC_URL), host, port),
    kubernetes: kubernetesConfig(env, nonEmpty(env.CHAINR_EXECUTOR) ?? 'local', executors),
    container: containerConfig(env, nonEmpty(env.CHAINR_EXECUTOR) ?? 'local', executors),
    gate: gateConfig(env, nonEmpty(env.CHAINR_PUBLIC_URL)),
    ops: {
      host: nonEmpty(env.CHAINR_OPS_HOST) ?? host,
      port: integer(env, 'CHAINR_OPS_PORT', 9090),
      heartbeatIntervalMs,
    },
  };
}

/** The headers must be complete before the request is (Node refuses the other way round). */
function httpTimeouts(env: NodeJS.ProcessEnv): HttpTimeouts {
  const timeouts = {
    headersMs: positiveDuration(env, 'CHAINR_HEADERS_TIMEOUT', '10s'),
    requestMs: positiveDuration(env, 'CHAINR_REQUEST_TIMEOUT', '30s'),
  };
  if (timeouts.headersMs > timeouts.requestMs)
    throw new ConfigError(
      `CHAINR_HEADERS_TIMEOUT (${timeouts.headersMs} ms) must not be longer than CHAINR_REQUEST_TIMEOUT (${timeouts.requestMs} ms)`,
    );
  return timeouts;
}

// ---- Artifacts (docs/CONFIGURATION.md, "Artifacts") ----

/**
 * The filesystem store under the data directory, or an S3-compatible bucket when
 * CHAINR_ARTIFACTS_S3_BUCKET is set (credentials: the AWS SDK's default chain).
 */
function artifactConfig(env: NodeJS.ProcessEnv): ArtifactConfig {
  const bucket = nonEmpty(env.CHAINR_ARTIFACTS_S3_BUCKET);
  const endpoint = nonEmpty(env.CHAINR_ARTIFACTS_S3_ENDPOINT);
  const pathStyle = nonEmpty(env.CHAINR_ARTIFACTS_S3_PATH_STYLE);
  if (pathStyle !== undefined && pathStyle !== '0' && pathStyle !== '1')
    throw new ConfigError(`CHAINR_ARTIFACTS_S3_PATH_STYLE: expected 0 or 1, got "${pathStyle}"`);
  return {
    dir:
      nonEmpty(env.CHAINR_ARTIFACTS_DIR) ??
      join(nonEmpty(env.CHAINR_DATA_DIR) ?? '.chainr', 'artifacts'),
    ...(bucket !== undefined && {
      s3: {
        bucket,
        prefix: env.CHAINR_ARTIFACTS_S3_PREFIX ?? 'chainr/',
        ...(endpoint !== undefined && { endpoint }),
        region: nonEmpty(env.CHAINR_ARTIFACTS_S3_REGION) ?? nonEmpty(env.AWS_REGION) ?? 'us-east-1',
        // S3-compatible servers other than AWS mostly want path-style addressing.
        forcePathStyle: pathStyle === undefined ? endpoint !== undefined : pathStyle === '1',
      },
    }),
    limits: {
      perArtifact: integer(
        env,
        'CHAINR_ARTIFACT_MAX_BYTES',
        DEFAULT_ARTIFACT_LIMITS.perArtifact,
        1,
      ),
      perRun: integer(env, 'CHAINR_ARTIFACT_RUN_MAX_BYTES', DEFAULT_ARTIFACT_LIMITS.perRun, 1),
    },
  };
}

// ---- Archive (docs/CONFIGURATION.md, "Archive") ----

/**
 * The archive a process uses: the one configured, or for `chainr up` (`oneMachine`), when none
 * is, a SQLite file in the data directory. A deployment of several replicas has no default:
 * SQLite serves the processes of one machine, not replicas spread over several.
 */
export function archiveOf(config: Config, oneMachine: boolean): ArchiveConfig | undefined {
  if (config.archive === 'off') return undefined;
  if (config.archive === undefined && oneMachine)
    return { backend: 'sqlite', path: join(config.dataDir, 'archive.db') };
  return config.archive;
}

/** A postgres:// or postgresql:// URL, `sqlite:<path>`, a plain path (a SQLite file), or `off`. */
function archiveConfig(raw: string | undefined): ArchiveConfig | 'off' | undefined {
  const setting = nonEmpty(raw);
  if (setting === undefined) return undefined;
  if (setting === 'off') return 'off';
  const expected = 'expected a postgres:// URL, sqlite:<file> or a file path';
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(setting)?.[1]?.toLowerCase();
  if (scheme === 'postgres' || scheme === 'postgresql') {
    if (!URL.canParse(setting))
      throw new ConfigError(`CHAINR_ARCHIVE_URL: not a valid URL (${expected})`);
    return { backend: 'postgres', url: setting };
  }
  if (scheme === 'sqlite') {
    const path = setting.slice('sqlite:'.length);
    if (path === '')
      throw new ConfigError(`CHAINR_ARCHIVE_URL: sqlite: names no file (${expected})`);
    return { backend: 'sqlite', path };
  }
  if (scheme !== undefined && scheme.length > 1 && setting.slice(scheme.length).startsWith('://'))
    throw new ConfigError(
      `CHAINR_ARCHIVE_URL: "${scheme}" is not an archive backend (${expected})`,
    );
  return { backend: 'sqlite', path: setting };
}

// ---- Kubernetes executor (docs/CONFIGURATION.md, "Kubernetes") ----

/** Read by sched too: it refuses what a single-node volume cannot serve. */
function workspaceVolumeDefaults(env: NodeJS.ProcessEnv): WorkspaceVolumeDefaults {
  const size = nonEmpty(env.CHAINR_KUBERNETES_WORKSPACE_SIZE) ?? DEFAULT_WORKSPACE_VOLUME.size;
  if (!/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.test(size))
    throw new ConfigError(
      `CHAINR_KUBERNETES_WORKSPACE_SIZE: expected a quantity such as 1Gi, got "${size}"`,
    );
  const modes = commaList(env.CHAINR_KUBERNETES_WORKSPACE_ACCESS_MODES);
  for (const mode of modes)
    if (!(WORKSPACE_ACCESS_MODES as readonly string[]).includes(mode))
      throw new ConfigError(
        `CHAINR_KUBERNETES_WORKSPACE_ACCESS_MODES: "${mode}" is not one of ${WORKSPACE_ACCESS_MODES.join(', ')}`,
      );
  const storageClassName = nonEmpty(env.CHAINR_KUBERNETES_WORKSPACE_STORAGE_CLASS);
  return {
    size,
    ...(storageClassName && { storageClassName }),
    accessModes:
      modes.length > 0 ? (modes as WorkspaceAccessMode[]) : DEFAULT_WORKSPACE_VOLUME.accessModes,
  };
}

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
  /** chainr's image, whose chainr-exec wraps the jobs (images without a shell; argv jobs). */
  helperImage?: string;
  /** The Secret the pods' artifact steps read the S3 store's credentials from (secretKeyRef). */
  artifactsSecret?: string;
  /** Client-side limits of the worker's requests to the API server. */
  rateLimits: { qps: number; burst: number };
}

/**
 * Enabled by CHAINR_KUBERNETES=1 or CHAINR_EXECUTOR=kubernetes, and detected (when
 * CHAINR_KUBERNETES is unset) from KUBECONFIG or running in a pod; CHAINR_KUBERNETES=0 disables it.
 */
function kubernetesConfig(
  env: NodeJS.ProcessEnv,
  defaultExecutor: string,
  executors: string[] | undefined,
): KubernetesConfig | undefined {
  const flag = nonEmpty(env.CHAINR_KUBERNETES);
  if (flag !== undefined && !['0', '1', 'true', 'false'].includes(flag))
    throw new ConfigError(`CHAINR_KUBERNETES: expected 1 or 0, got "${flag}"`);
  if (executors && !executors.includes('kubernetes')) return undefined;
  const explicit =
    flag === '1' ||
    flag === 'true' ||
    defaultExecutor === 'kubernetes' ||
    Boolean(executors?.includes('kubernetes'));
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
    helperImage: nonEmpty(env.CHAINR_KUBERNETES_HELPER_IMAGE),
    artifactsSecret: nonEmpty(env.CHAINR_KUBERNETES_ARTIFACTS_SECRET),
    rateLimits: {
      qps: integer(env, 'CHAINR_KUBERNETES_QPS', 20, 1),
      burst: integer(env, 'CHAINR_KUBERNETES_BURST', 30, 1),
    },
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

/** On unless CHAINR_CONTAINER=0; registered when an engine is found (services/work/runtime.ts). */
function containerConfig(
  env: NodeJS.ProcessEnv,
  defaultExecutor: string,
  executors: string[] | undefined,
): ContainerConfig | undefined {
  const flag = nonEmpty(env.CHAINR_CONTAINER);
  if (flag !== undefined && !['0', '1', 'true', 'false'].includes(flag))
    throw new ConfigError(`CHAINR_CONTAINER: expected 1 or 0, got "${flag}"`);
  if (flag === '0' || flag === 'false') return undefined;
  if (executors && !executors.includes('container')) return undefined;
  const engine = nonEmpty(env.CHAINR_CONTAINER_ENGINE);
  return {
    explicit:
      flag === '1' ||
      flag === 'true' ||
      engine !== undefined ||
      defaultExecutor === 'container' ||
      Boolean(executors?.includes('container')),
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
  /**
   * With auth off, the names requests may be addressed to besides loopback names and IP literals
   * (CHAINR_ALLOWED_HOSTS, and CHAINR_PUBLIC_URL's host); `*`: any.
   */
  allowedHosts: string[];
  /** Requests per second per token or address, and the burst; undefined: no rate limit. */
  rateLimit?: { perSecond: number; burst: number };
  /** The sched instances `chainr gate` proxies /api to. */
  upstreams: string[];
  /** How often `chainr gate` checks its upstreams (GET /api). */
  healthIntervalMs: number;
}

/** Lower-case host names; a port or scheme is a mistake worth naming. */
function allowedHosts(raw: string | undefined, publicUrl: string | undefined): string[] {
  const names = commaList(raw).map((name) => name.toLowerCase());
  for (const name of names) {
    if (name !== '*' && !/^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$/.test(name))
      throw new ConfigError(
        `CHAINR_ALLOWED_HOSTS: expected host names such as "chainr.example.com" (no scheme or port), or *, got "${name}"`,
      );
  }
  if (publicUrl !== undefined) names.push(new URL(publicUrl).hostname.toLowerCase());
  return names;
}

function gateConfig(env: NodeJS.ProcessEnv, publicUrl: string | undefined): GateConfig {
  const tokensFile = nonEmpty(env.CHAINR_TOKENS_FILE);
  const flag = nonEmpty(env.CHAINR_ALLOW_UNAUTHENTICATED);
  if (flag !== undefined && !['0', '1', 'true', 'false'].includes(flag))
    throw new ConfigError(`CHAINR_ALLOW_UNAUTHENTICATED: expected 1 or 0, got "${flag}"`);
  const list = (raw: string | undefined) =>
    commaList(raw)
      .map((s) => s.replace(/\/+$/, ''))
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
    allowedHosts: allowedHosts(env.CHAINR_ALLOWED_HOSTS, publicUrl),
    rateLimit: perSecond > 0 ? { perSecond, burst } : undefined,
    upstreams,
    healthIntervalMs: integer(env, 'CHAINR_HEALTH_INTERVAL_MS', 2000, 100),
  };
}
