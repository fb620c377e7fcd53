/**
 * The layout of a run in Redis, owned here: the run hash (`run:<uid>`, keys.ts) holds the run's
 * and all its jobs' state, the spec hash (`run:<uid>:spec`) what it was created with. This module
 * writes a new run (newRun) and reads one back (parseSummary); the Lua transitions (lua/*.lua)
 * change the fields listed here and no others (test/run-hash.test.ts checks their sources).
 */
import type { ArtifactRecord } from '../core/artifacts.ts';
import { forEachSource } from '../core/foreach.ts';
import type { RunPlan } from '../core/plan.ts';
import {
  JOB_STATUSES,
  RUN_STATUSES,
  type JobStatus,
  type Pipeline,
  type RunStatus,
} from '../core/types.ts';
import { CorruptRecordError, isObject, isStringMap, isTime, parseJson } from './corrupt.ts';

/** The run hash's run-level fields. */
export const RUN_FIELDS = {
  status: 'the run status (RunStatus); moved with the per-status index by the transitions',
  created: 'ms since epoch',
  started: 'ms since epoch: its first job start',
  finished: 'ms since epoch',
  reason: 'why it ended as it did (a failed job, a cancel)',
  name: "the pipeline's metadata.name, when it has one",
  labels: 'JSON object',
  params: 'JSON object: the parameters it was created with',
  jobs: 'its job names, comma-separated, in pipeline order',
  total: 'how many jobs',
  done: 'how many jobs ended (counted by the transitions; cancel-run does not)',
  active: 'how many jobs are queued or running (the concurrency limit counts these)',
  concurrency: "the pipeline's concurrency limit, when it has one",
  held: 'ready jobs waiting for a concurrency slot, comma-separated, oldest first',
  failedJobs: 'the FAILED jobs, comma-separated (those allowed to fail are under tolerated)',
  tolerated: 'the FAILED jobs allowed to fail (allowFailure), comma-separated',
  withOutputs: "'1' once any job recorded outputs (ancestors' outputs are then read)",
  canceling:
    'the reason of a cancel whose cleanup jobs (all dependencies `always`) still run: the run ends CANCELED after them',
  artifactBytes:
    "bytes of the artifacts its jobs stored (the per-run limit's count; the workers add to it)",
} as const;

/** The run hash's per-job fields, each `<job>.<field>`. */
export const JOB_FIELDS = {
  status: 'the job status (JobStatus)',
  attempt: 'the current attempt, from 1',
  base: 'the first attempt of the current round (retry-run moves it): retries count from it',
  retries: 'how many times a FAILED attempt is retried',
  exec: "the executor whose queue it goes to ('' the deployment default)",
  deps: 'its dependencies and the statuses each accepts: "dep=S|S;dep=S"',
  any: 'its either-of groups, each needing one member SUCCESSFUL: "a,b;c,d" (members are in deps)',
  tolerate: "'1' when it is allowed to fail (allowFailure)",
  cleanup: "'1' when it is a cleanup job, which a first cancel lets run (src/core/dag.ts)",
  when: "'1' when it has a `when` condition: a worker decides it before the job may start",
  ff: 'an instance of a failFast matrix: the matrix job it is an instance of',
  each: 'a forEach job: "<producer>.<key>", the output holding the JSON array it fans out over',
  items: 'a forEach job once expanded: how many instances it has (<job>-0 ...)',
  group:
    '`<matrix job>.group` (the matrix job, not a job of the run): its failFast instances, comma-separated',
  next: 'its dependents, comma-separated',
  wait: 'how many of its dependencies have not ended',
  queued: "'1' once handed to its queue (not held back by the concurrency limit)",
  started: 'ms since epoch',
  finished: 'ms since epoch',
  exit: 'the exit code of the attempt, when its process exited on its own',
  reason: 'why it ended or waits as it does',
  attempts: 'JSON array: its earlier attempts (AttemptRecord), oldest first',
  outputs: 'JSON object: the outputs it recorded',
  artifacts: 'JSON array: the artifacts its successful attempt stored (ArtifactRecord)',
  via: 'the carrier ("job/attempt") that started it in its own queue slot',
  cont: 'the job ("job/attempt") it last carried on in its slot, as a carrier',
  owner:
    'the work instance processing its queue entry (the attempt, and what it carries on), set when it starts or restarts; a re-delivery is refused while that instance is alive and holds the entry; removed once the entry ends with nothing carried on',
  logcut: "'1' once an attempt's log reached CHAINR_LOG_JOB_BYTES and the rest was dropped",
} as const;

/** The spec hash's fields: written once, at creation. */
export const SPEC_FIELDS = {
  pipeline: 'JSON: the pipeline as submitted',
  spec: "`<job>.spec`, JSON: the job's spec as planned (JobSpec)",
} as const;

export type RunField = keyof typeof RUN_FIELDS;
export type JobField = keyof typeof JOB_FIELDS;

/** A job's field name in the run hash. */
export const jobField = (job: string, field: JobField): string => `${job}.${field}`;

export interface AttemptRecord {
  attempt: number;
  status: JobStatus;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
}

export interface JobRecord {
  name: string;
  status: JobStatus;
  attempt: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  /** Earlier attempts of this job (retries), oldest first. */
  attempts: AttemptRecord[];
  outputs?: Record<string, string>;
  /** What its successful attempt stored. */
  artifacts?: ArtifactRecord[];
  /** The executor whose queue the job goes to. */
  executor: string;
  /** Handed to the queue (ready and not held back by the run's concurrency limit). */
  queued: boolean;
  /** FAILED, and allowed to: its failure does not fail the run. */
  tolerated: boolean;
  /** An attempt's log reached its byte limit, and the rest of it was dropped. */
  logTruncated?: boolean;
}

/** A run without its pipeline: what a list page shows. */
export interface RunSummary {
  uid: string;
  status: RunStatus;
  reason?: string;
  name?: string;
  labels: Record<string, string>;
  params: Record<string, string>;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  jobs: JobRecord[];
}

export interface RunRecord extends RunSummary {
  pipeline: Pipeline;
}

export const json = <T>(v: string | undefined, fallback: T): T =>
  v === undefined ? fallback : (JSON.parse(v) as T);

type RunHash = Partial<Record<RunField, string>> & Record<string, string | undefined>;

const isArtifact = (v: unknown): v is ArtifactRecord =>
  isObject(v) &&
  typeof v.name === 'string' &&
  (v.kind === 'file' || v.kind === 'directory') &&
  typeof v.size === 'number' &&
  typeof v.sha256 === 'string' &&
  typeof v.attempt === 'number';

const isAttempt = (v: unknown): v is AttemptRecord =>
  isObject(v) &&
  Number.isInteger(v.attempt) &&
  JOB_STATUSES.includes(v.status as JobStatus) &&
  [v.startedAt, v.finishedAt].every((t) => t === undefined || isTime(t)) &&
  (v.exitCode === undefined || Number.isInteger(v.exitCode)) &&
  (v.reason === undefined || typeof v.reason === 'string');

/*
 * Reading a run back. A list page parses fifty runs per request: the helpers below are plain
 * functions of the module, not closures made anew for each run and job.
 */

const corrupt = (uid: string, field: string, problem: string) =>
  new CorruptRecordError('run', uid, `${field}: ${problem}`);

function time(uid: string, field: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !isTime(n)) throw corrupt(uid, field, `not a time in ms ("${v}")`);
  return n;
}

function integer(uid: string, field: string, v: string | undefined): number | undefined {
  const n = time(uid, field, v);
  if (n !== undefined && !Number.isInteger(n)) throw corrupt(uid, field, `not an integer ("${v}")`);
  return n;
}

function jsonOf<T>(
  uid: string,
  field: string,
  v: string | undefined,
  is: (x: unknown) => x is T,
  what: string,
): T | undefined {
  if (v === undefined) return undefined;
  const value = parseJson('run', uid, field, v);
  if (!is(value)) throw corrupt(uid, field, `not ${what}`);
  return value;
}

const isAttemptList = (v: unknown): v is AttemptRecord[] => Array.isArray(v) && v.every(isAttempt);
const isArtifactList = (v: unknown): v is ArtifactRecord[] =>
  Array.isArray(v) && v.every(isArtifact);

function parseJob(uid: string, h: RunHash, name: string): JobRecord {
  const field = `${name}.`; // jobField(name, f) is `${field}${f}`
  const status = h[`${field}status`] ?? 'PENDING';
  if (!JOB_STATUSES.includes(status as JobStatus))
    throw corrupt(uid, `${field}status`, `"${status}"`);
  const attempts = jsonOf(
    uid,
    `${field}attempts`,
    h[`${field}attempts`],
    isAttemptList,
    'a list of attempts',
  );
  const job: JobRecord = {
    name,
    status: status as JobStatus,
    attempt: integer(uid, `${field}attempt`, h[`${field}attempt`]) ?? 1,
    startedAt: time(uid, `${field}started`, h[`${field}started`]),
    finishedAt: time(uid, `${field}finished`, h[`${field}finished`]),
    exitCode: integer(uid, `${field}exit`, h[`${field}exit`]),
    reason: h[`${field}reason`],
    attempts: attempts ?? [],
    outputs: jsonOf(
      uid,
      `${field}outputs`,
      h[`${field}outputs`],
      isStringMap,
      'an object of strings',
    ),
    artifacts: jsonOf(
      uid,
      `${field}artifacts`,
      h[`${field}artifacts`],
      isArtifactList,
      'a list of artifacts',
    ),
    executor: h[`${field}exec`] ?? '',
    queued: h[`${field}queued`] === '1',
    tolerated: status === 'FAILED' && h[`${field}tolerate`] === '1',
  };
  // Set after, not spread into the literal: a spread makes building the object several times slower.
  if (h[`${field}logcut`] === '1') job.logTruncated = true;
  return job;
}

/**
 * A run read back from its hash's fields; undefined when there is no such run. Throws
 * CorruptRecordError naming the first field that is not as the transitions write it, rather than
 * hand on a value that would break whoever shows it.
 */
export function parseSummary(uid: string, h: RunHash): RunSummary | undefined {
  if (h.status === undefined) return undefined;
  if (!RUN_STATUSES.includes(h.status as RunStatus)) throw corrupt(uid, 'status', `"${h.status}"`);
  const jobs: JobRecord[] = [];
  for (const name of (h.jobs ?? '').split(',')) jobs.push(parseJob(uid, h, name));
  return {
    uid,
    status: h.status as RunStatus,
    reason: h.reason,
    name: h.name,
    labels: jsonOf(uid, 'labels', h.labels, isStringMap, 'an object of strings') ?? {},
    params: jsonOf(uid, 'params', h.params, isStringMap, 'an object of strings') ?? {},
    createdAt: time(uid, 'created', h.created ?? '') as number,
    startedAt: time(uid, 'started', h.started),
    finishedAt: time(uid, 'finished', h.finished),
    jobs,
  };
}

/** The instances of each failFast matrix, by the matrix job's name. */
function failFastGroups(compiled: RunPlan['compiled']): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const [name, job] of Object.entries(compiled.jobs)) {
    if (job.failFast !== undefined)
      groups.set(job.failFast, [...(groups.get(job.failFast) ?? []), name]);
  }
  return groups;
}

/**
 * A new run: `fields`, its hash's fields and values in one list as HSET takes them (the compiled
 * DAG, every job PENDING at attempt 1); `spec`, the same for its spec hash (the pipeline and each
 * job's spec, the bulk of a run's bytes, kept apart so that reading a run's state, as a list page
 * does, does not decode them); and `run`, what reading those fields back gives.
 */
export function newRun(
  uid: string,
  plan: RunPlan,
  queuedRoots: string[],
  now: number,
): { fields: string[]; spec: string[]; run: RunSummary } {
  const { pipeline, compiled } = plan;
  const names = Object.keys(pipeline.jobs);
  const queued = new Set(queuedRoots);
  const held = compiled.roots.filter((r) => !queued.has(r));
  const name = pipeline.metadata?.name;
  const fields: string[] = [];
  const set = (field: RunField, value: string) => fields.push(field, value);
  const setJob = (job: string, field: JobField, value: string) =>
    fields.push(jobField(job, field), value);
  set('status', 'PENDING');
  set('created', String(now));
  set('total', String(names.length));
  set('done', '0');
  set('active', String(queued.size));
  set('jobs', names.join(','));
  set('labels', JSON.stringify(plan.labels));
  set('params', JSON.stringify(plan.params));
  const spec = ['pipeline', JSON.stringify(pipeline)];
  if (name) set('name', name);
  if (pipeline.concurrency) set('concurrency', String(pipeline.concurrency));
  if (held.length > 0) set('held', held.join(','));
  const jobs: JobRecord[] = [];
  for (const job of names) {
    const compiledJob = compiled.jobs[job];
    const jobSpec = plan.jobs[job];
    if (!compiledJob || !jobSpec) continue;
    const { deps, anyOf, dependents, tolerated, cleanup } = compiledJob;
    setJob(job, 'status', 'PENDING');
    setJob(job, 'attempt', '1');
    setJob(job, 'wait', String(deps.length));
    setJob(job, 'exec', jobSpec.executor);
    spec.push(`${job}.spec`, JSON.stringify(jobSpec));
    if (jobSpec.retries?.limit) setJob(job, 'retries', String(jobSpec.retries.limit));
    if (queued.has(job)) setJob(job, 'queued', '1');
    if (deps.length > 0)
      setJob(job, 'deps', deps.map((d) => `${d.job}=${d.accepts.join('|')}`).join(';'));
    if (anyOf.length > 0) setJob(job, 'any', anyOf.map((group) => group.join(',')).join(';'));
    if (tolerated) setJob(job, 'tolerate', '1');
    if (cleanup) setJob(job, 'cleanup', '1');
    if (jobSpec.when) setJob(job, 'when', '1');
    const each = forEachSource(pipeline.jobs[job]?.forEach ?? '');
    if (each) setJob(job, 'each', `${each.job}.${each.key}`);
    if (compiledJob.failFast !== undefined) setJob(job, 'ff', compiledJob.failFast);
    if (dependents.length > 0) setJob(job, 'next', dependents.join(','));
    jobs.push({
      name: job,
      status: 'PENDING',
      attempt: 1,
      attempts: [],
      executor: jobSpec.executor,
      queued: queued.has(job),
      tolerated: false,
    });
  }
  for (const [matrix, instances] of failFastGroups(compiled))
    fields.push(jobField(matrix, 'group'), instances.join(','));
  const run: RunSummary = {
    uid,
    status: 'PENDING',
    ...(name && { name }),
    labels: plan.labels,
    params: plan.params,
    createdAt: now,
    jobs,
  };
  return { fields, spec, run };
}
