/**
 * DAG evaluation: which jobs may start, which are skipped, what the run's status is.
 * Pure: no I/O, no clock. The store applies the same rule incrementally (see
 * src/store/lua/finish-job.lua) from the edges `compile` produces here.
 */
import type { Dependency, JobStatus, Pipeline, RunStatus } from './types.ts';
import { isTerminalJob } from './types.ts';

/** The dependency statuses under which a dependent may run. */
export function acceptedStatuses(dep: Dependency): JobStatus[] {
  if (dep.conditions?.always === true) return ['SUCCESSFUL', 'FAILED', 'SKIPPED', 'CANCELED'];
  return dep.conditions?.failure === true ? ['FAILED'] : ['SUCCESSFUL'];
}

export interface CompiledEdge {
  job: string;
  accepts: JobStatus[];
}

export interface CompiledJob {
  /** Edges to the jobs this one depends on, each with the statuses it accepts. */
  deps: CompiledEdge[];
  /** Jobs that depend on this one. */
  dependents: string[];
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
    const deps = (spec.dependsOn ?? []).map((d) => ({ job: d.job, accepts: acceptedStatuses(d) }));
    jobs[name] = { deps, dependents: [] };
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

/** Decides a PENDING job from its dependencies' statuses. */
export function decide(edges: CompiledEdge[], statuses: Record<string, JobStatus>): Decision {
  let skip: string | undefined;
  for (const edge of edges) {
    const actual = statusOf(statuses, edge.job);
    if (!isTerminalJob(actual)) return { kind: 'wait' };
    if (skip === undefined && !edge.accepts.includes(actual)) skip = skipReason(edge, actual);
  }
  return skip === undefined ? { kind: 'run' } : { kind: 'skip', reason: skip };
}

export interface Evaluation {
  /** PENDING jobs whose dependencies all ended as they require. */
  ready: string[];
  /** PENDING jobs that can never run, with the reason. Skips propagate: apply and evaluate again. */
  skipped: { job: string; reason: string }[];
}

/** One step of evaluation over the current statuses (missing jobs count as PENDING). */
export function evaluate(
  compiled: CompiledPipeline,
  statuses: Record<string, JobStatus>,
): Evaluation {
  const ready: string[] = [];
  const skipped: { job: string; reason: string }[] = [];
  for (const [name, job] of Object.entries(compiled.jobs)) {
    if (statusOf(statuses, name) !== 'PENDING') continue;
    const decision = decide(job.deps, statuses);
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

/** The run's status from its jobs' statuses (a canceled run stays CANCELED). */
export function runStatus(statuses: JobStatus[], canceled = false): RunStatus {
  if (canceled) return 'CANCELED';
  if (statuses.every((s) => s === 'PENDING')) return 'PENDING';
  if (!statuses.every(isTerminalJob)) return 'RUNNING';
  return statuses.includes('FAILED') ? 'FAILED' : 'SUCCESSFUL';
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
