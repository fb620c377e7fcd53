/** What the sched routes share: sched's options, its context, the lookups that answer 404. */
import type { ArchiveStore } from '../../archive/store.ts';
import type { ArtifactStore } from '../../artifacts/store.ts';
import type { WorkerCoverage } from './coverage.ts';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { WorkspaceAccessMode } from '../../core/types.ts';
import type { Redis } from 'ioredis';
import type { EventHub } from '../../store/events.ts';
import type { Keys } from '../../store/keys.ts';
import type { LogHub } from '../../store/log-hub.ts';
import type { LogStore } from '../../store/logs.ts';
import type { StreamLimitSettings, StreamLimits } from './stream-limits.ts';
import type { ReplicaConfirmation } from '../../store/replication.ts';
import type { RunRecord } from '../../store/run-hash.ts';
import type { RunStore } from '../../store/runs.ts';
import type { RunHistory } from './history.ts';
import { HttpError } from '../../http/errors.ts';
import type { HttpTimeouts } from '../../http/timeouts.ts';
import { isUid } from './views.ts';

export interface SchedOptions {
  /** Commands connection; it should fail fast so that requests answer 503 during outages. */
  redis: Redis;
  /** Opens a connection reserved for blocking reads (event hub, log follow). */
  connectBlocking: () => Redis;
  keys: Keys;
  maxEvents: number;
  maxLogLines: number;
  maxJobsPerPipeline: number;
  bodyLimitBytes: number;
  /** The executor of jobs that name none (CHAINR_EXECUTOR). */
  defaultExecutor: string;
  /** Why a job on an executor is refused here (not offered), or undefined; none: all offered. */
  refuseExecutor?: (executor: string) => string | undefined;
  /** The access modes of workspace claims that name none (CHAINR_KUBERNETES_WORKSPACE_ACCESS_MODES). */
  workspaceAccessModes?: WorkspaceAccessMode[];
  /** How long a client may take to send a request (CHAINR_HEADERS_TIMEOUT, CHAINR_REQUEST_TIMEOUT). */
  httpTimeouts?: HttpTimeouts;
  /** Streams open at once, in all and per client, and the buffer of each (CHAINR_MAX_STREAMS…). */
  streamLimits?: StreamLimitSettings;
  /** Replicas that must hold a new run before it is acknowledged (CHAINR_WAIT_REPLICAS). */
  replication?: ReplicaConfirmation;
  /** Where jobs' artifacts are read from for downloads; undefined: none are served. */
  artifacts?: ArtifactStore;
  /** The archive of ended runs, read beside Redis (RunHistory); undefined: none. */
  archive?: ArchiveStore;
  logger: FastifyBaseLogger;
}

/** The content types of a pipeline in YAML. */
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];
/** The content types a pipeline is sent as. */
export const PIPELINE_TYPES = ['application/json', ...YAML_TYPES];
/**
 * curl's default type (`curl -d @pipeline.json`): such a body, or one with no type, is read by
 * what it holds, as the original chainr did (bodyFormat).
 */
export const FORM_TYPE = 'application/x-www-form-urlencoded';

/** How a body of this content type is parsed: YAML, JSON, or by what it holds (no type, form). */
export function bodyFormat(contentType: string | undefined, text: string): 'json' | 'yaml' {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (YAML_TYPES.includes(type)) return 'yaml';
  if (type === 'application/json') return 'json';
  return /^\s*[{[]/.test(text) ? 'json' : 'yaml';
}

export interface SchedContext {
  /** The live runs, in Redis. */
  runs: RunStore;
  /** Every run the API shows: the live ones and the archived ones. */
  history: RunHistory;
  logs: LogStore;
  events: EventHub;
  logHub: LogHub;
  streamLimits: StreamLimits;
  options: SchedOptions;
  /** Which executors live workers serve: a queued job's reason when none serves its own. */
  coverage: WorkerCoverage;
}

/** The `:uid` route parameter; a value that is not a uid cannot name a run. */
export function runUid(request: FastifyRequest): string {
  const { uid } = request.params as { uid: string };
  if (!isUid(uid)) throw new HttpError(404, `run ${uid} not found`);
  return uid;
}

export async function mustGetRun(runs: Pick<RunHistory, 'get'>, uid: string): Promise<RunRecord> {
  const run = await runs.get(uid);
  if (!run) throw new HttpError(404, `run ${uid} not found`);
  return run;
}
