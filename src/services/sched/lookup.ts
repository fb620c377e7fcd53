/** What the sched routes share: sched's options, its context, the lookups that answer 404. */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import type { EventHub } from '../../store/events.ts';
import type { Keys } from '../../store/keys.ts';
import type { LogStore } from '../../store/logs.ts';
import type { RunRecord, RunStore } from '../../store/runs.ts';
import { HttpError } from './errors.ts';
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
  logger: FastifyBaseLogger;
}

/** The content types of a pipeline in YAML; any other body is read as JSON. */
export const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

export interface SchedContext {
  runs: RunStore;
  logs: LogStore;
  events: EventHub;
  options: SchedOptions;
}

/** The `:uid` route parameter; a value that is not a uid cannot name a run. */
export function runUid(request: FastifyRequest): string {
  const { uid } = request.params as { uid: string };
  if (!isUid(uid)) throw new HttpError(404, `run ${uid} not found`);
  return uid;
}

export async function mustGetRun(runs: RunStore, uid: string): Promise<RunRecord> {
  const run = await runs.get(uid);
  if (!run) throw new HttpError(404, `run ${uid} not found`);
  return run;
}
