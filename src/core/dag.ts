/**
 * DAG evaluation: which jobs may start, which are skipped, what the run's status is.
 * Pure: no I/O, no clock. The store applies the same rule incrementally (see
 * src/store/lua/finish-job.lua) from the edges `compile` produces here.
 */
import type { JobDependency, JobStatus, Pipeline, RunStatus } from './types.ts';
import { isAnyOf, isTerminalJob, TERMINAL_JOB_STATUSES } from './types.ts';

/** The dependency statuses under which a dependent may run. */
export function acceptedStatuses(dep: JobDependency): JobStatus[] {
  if (dep.conditions?.always === true) return ['SUCCESSFUL', 'FAILED', 'SKIPPED', 'CANCELED'];
  return dep.conditions?.failure === true ? ['FAILED'] : ['SUCCESSFUL'];
}

export interface CompiledEdge {
  job: string;
  accepts: JobStatus[];
}

export interface CompiledJob {
  /**
   * Edges to the jobs this one depends on, each with the statuses it accepts. The members of an
   * either-of group are edges accepting any end: the group's own rule is `anyOf`'s.
   */
  deps: CompiledEdge[];
  /** Either-of groups: each needs at least one of its members SUCCESSFUL. */
  anyOf: string[][];
  /** Jobs that depend on this one. */
  dependents: string[];
  /** Its FAILED end does not make the run FAILED (`allowFailure`). */
  tolerated: boolean;
  /**
   * An instance of a matrix job with `failFast` (and not allowed to fail): that job's name, whose
   * other instances skip this one, while it has not started, by ending FAILED.
   */
  failFast?: string;
  /**
   * A cleanup job (a `finally`): it has dependencies, each `always`, and no either-of group. A
   * first cancel lets it run. The edge a matrix instance gets from `maxParallel` (to the instance
   * before it in its lane) only orders it: it does not make the instance a cleanup job.
   */
  cleanup: boolean;
}

export interface CompiledPipeline {
  jobs: Record<string, CompiledJob>;
  /** Jobs without dependencies, ready as soon as the run is created. */
  roots: string[];
}

/** Precomputes what the store needs to advance a run without rescanning it. */
export function compile(pipeline: Pipeline): CompiledPipeline {
  const jobs: Record<string, CompiledJob> = {};
  for (const [name, spec] of Object.entries(pipeline.jobs)) {
    const deps: CompiledEdge[] = [];
    const anyOf: string[][] = [];
    for (const d of spec.dependsOn ?? []) {
      if (isAnyOf(d)) {
        anyOf.push(d.anyOf);
        deps.push(...d.anyOf.map((job) => ({ job, accepts: [...TERMINAL_JOB_STATUSES] })));
      } else deps.push({ job: d.job, accepts: acceptedStatuses(d) });
    }
    const tolerated = spec.allowFailure === true;
    const declared = deps.filter(
      (d) => spec.matrixOf === undefined || pipeline.jobs[d.job]?.matrixOf !== spec.matrixOf,
    );
    const cleanup =
      declared.length > 0 &&
      anyOf.length === 0 &&
      declared.every((d) => d.accepts.includes('CANCELED'));
    jobs[name] = { deps, anyOf, dependents: [], tolerated, cleanup };
    if (spec.failFast === true && spec.matrixOf !== undefined && !tolerated)
      jobs[name].failFast = spec.matrixOf;
  }
  for (const [name, job] of Object.entries(jobs)) {
    for (const dep of job.deps) {
      const target = Object.hasOwn(jobs, dep.job) ? jobs[dep.job] : undefined;
      if (target && !target.dependents.includes(name)) target.dependents.push(name);
    }
  }
  const roots = Object.keys(jobs).filter((name) => jobs[name]?.deps.length === 0);
  return { jobs, roots };
}

/** Why a job is skipped: the first dependency whose final status it does not accept. */
export function skipReason(dep: CompiledEdge, actual: JobStatus): string {
  return `dependency "${dep.job}" ended ${actual}; this job runs only when it is ${dep.accepts.join(' or ')}`;
}

/** A job's status in a record of statuses; a missing job is PENDING (own keys only). */
export function statusOf(statuses: Record<string, JobStatus>, job: string): JobStatus {
  return (Object.hasOwn(statuses, job) ? statuses[job] : undefined) ?? 'PENDING';
}

export type Decision = { kind: 'wait' } | { kind: 'run' } | { kind: 'skip'; reason: string };

/** Why a job is skipped: an either-of group none of whose members ended SUCCESSFUL. */
export function anyOfSkipReason(group: string[], statuses: Record<string, JobStatus>): string {
  const ends = group.map((job) => `"${job}" ${statusOf(statuses, job)}`).join(', ');
  return `none of its either-of dependencies ended SUCCESSFUL (${ends}); this job needs at least one`;
}

/**
 * Decides a PENDING job from its dependencies' statuses: it waits until every dependency has
 * ended; it is skipped by the first edge that does not accept its dependency's end, else by the
 * first either-of group without a SUCCESSFUL member; otherwise it runs.
 */
export function decide(
  edges: CompiledEdge[],
  statuses: Record<string, JobStatus>,
  anyOf: string[][] = [],
): Decision {
  let skip: string | undefined;
  for (const edge of edges) {
    const actual = statusOf(statuses, edge.job);
    if (!isTerminalJob(actual)) return { kind: 'wait' };
    if (skip === undefined && !edge.accepts.includes(actual)) skip = skipReason(edge, actual);
  }
  skip ??= anyOf
    .filter((group) => !group.some((job) => statusOf(statuses, job) === 'SUCCESSFUL'))
    .map((group) => anyOfSkipReason(group, statuses))[0];
  return skip === undefined ? { kind: 'run' } : { kind: 'skip', reason: skip };
}

export interface Evaluation {
  /** PENDING jobs whose dependencies all ended as they require. */
  ready: string[];
  /** PENDING jobs that can never run, with the reason. Skips propagate: apply and evaluate again. */
  skipped: { job: string; reason: string }[];
}

/** Why an instance that has not started is skipped: another of its failFast matrix FAILED. */
export function failFastReason(failed: string, matrix: string): string {
  return `instance "${failed}" of "${matrix}" failed (failFast)`;
}

/** The first FAILED instance of each failFast matrix. */
function failedFast(
  compiled: CompiledPipeline,
  statuses: Record<string, JobStatus>,
): Map<string, string> {
  const failed = new Map<string, string>();
  for (const [name, job] of Object.entries(compiled.jobs)) {
    if (job.failFast !== undefined && !failed.has(job.failFast) && statuses[name] === 'FAILED')
      failed.set(job.failFast, name);
  }
  return failed;
}

/** One step of evaluation over the current statuses (missing jobs count as PENDING). */
export function evaluate(
  compiled: CompiledPipeline,
  statuses: Record<string, JobStatus>,
): Evaluation {
  const ready: string[] = [];
  const skipped: { job: string; reason: string }[] = [];
  const failed = failedFast(compiled, statuses);
  for (const [name, job] of Object.entries(compiled.jobs)) {
    if (statusOf(statuses, name) !== 'PENDING') continue;
    const instance = job.failFast === undefined ? undefined : failed.get(job.failFast);
    if (instance !== undefined && job.failFast !== undefined) {
      skipped.push({ job: name, reason: failFastReason(instance, job.failFast) });
      continue;
    }
    const decision = decide(job.deps, statuses, job.anyOf);
    if (decision.kind === 'run') ready.push(name);
    else if (decision.kind === 'skip') skipped.push({ job: name, reason: decision.reason });
  }
  return { ready, skipped };
}

/**
 * Applies skips until none is left (a skip can make its dependents skip in turn) and returns
 * the statuses with every decidable skip recorded, plus the jobs now ready.
 */
export function settle(
  compiled: CompiledPipeline,
  statuses: Record<string, JobStatus>,
): { statuses: Record<string, JobStatus>; ready: string[]; skipped: Evaluation['skipped'] } {
  const next = { ...statuses };
  const skipped: Evaluation['skipped'] = [];
  for (;;) {
    const step = evaluate(compiled, next);
    if (step.skipped.length === 0) return { statuses: next, ready: step.ready, skipped };
    for (const s of step.skipped) next[s.job] = 'SKIPPED';
    skipped.push(...step.skipped);
  }
}

/**
 * The run's status from its jobs' statuses (a canceled run stays CANCELED). `tolerated`: how
 * many of the FAILED jobs were allowed to fail; the run is FAILED only by the others.
 */
export function runStatus(statuses: JobStatus[], canceled = false, tolerated = 0): RunStatus {
  if (canceled) return 'CANCELED';
  if (statuses.every((s) => s === 'PENDING')) return 'PENDING';
  if (!statuses.every(isTerminalJob)) return 'RUNNING';
  return statuses.filter((s) => s === 'FAILED').length > tolerated ? 'FAILED' : 'SUCCESSFUL';
}

/** The FAILED jobs of a run whose failure is tolerated (`allowFailure`). */
export function toleratedFailures(
  compiled: CompiledPipeline,
  statuses: Record<string, JobStatus>,
): string[] {
  return Object.keys(compiled.jobs).filter(
    (job) => compiled.jobs[job]?.tolerated === true && statusOf(statuses, job) === 'FAILED',
  );
}

/** The run's status from its jobs' statuses by name, tolerated failures left out. */
export function runStatusOf(
  compiled: CompiledPipeline,
  statuses: Record<string, JobStatus>,
  canceled = false,
): RunStatus {
  const all = Object.keys(compiled.jobs).map((job) => statusOf(statuses, job));
  return runStatus(all, canceled, toleratedFailures(compiled, statuses).length);
}

/** The reason of a run that ended SUCCESSFUL with tolerated failures (close_if_done). */
export function toleratedReason(jobs: string[]): string {
  const list = jobs.map((j) => `"${j}"`).join(', ');
  return `${jobs.length === 1 ? 'job' : 'jobs'} ${list} failed (tolerated: allowFailure)`;
}

/**
 * The run's reason when it ended FAILED: the seed's rule (any failed job fails the run) made
 * visible, also when every failure was handled by a job that ran because of it. Applied by
 * src/store/lua/includes.lua `close_if_done`.
 */
export function failureReason(failedJobs: string[], allHandled = false): string {
  const list = failedJobs.map((j) => `"${j}"`).join(', ');
  const reason = failedJobs.length === 1 ? `job ${list} failed` : `jobs ${list} failed`;
  return allHandled
    ? `${reason} (handled by a fallback; a run with a failed job is FAILED)`
    : reason;
}
