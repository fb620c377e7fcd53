/** Applies live transitions (from the SSE streams) to runs and jobs on screen. Pure. */
import type { JobStatus, RunStatus } from '../../../src/core/types.ts';
import type { Job, Run, TransitionEvent } from '../../../src/api/wire.ts';

const iso = (ms: number) => new Date(ms).toISOString();
const ENDED = new Set(['SUCCESSFUL', 'FAILED', 'SKIPPED', 'CANCELED']);

/** A job after one of its transitions. */
export function applyJobEvent(job: Job, e: TransitionEvent): Job {
  const status: JobStatus = e.status;
  const next: Job = { ...job, status, ...(e.reason !== undefined && { reason: e.reason }) };
  if (status === 'RUNNING') {
    next.startedAt = iso(e.time);
    delete next.finishedAt;
    delete next.exitCode;
  } else if (status === 'PENDING') {
    delete next.startedAt;
    delete next.finishedAt;
  } else if (ENDED.has(status)) {
    next.finishedAt = iso(e.time);
  }
  return next;
}

/** A run after one of its own or its jobs' transitions. */
export function applyRunEvent(run: Run, e: TransitionEvent): Run {
  if (e.job === undefined) {
    const status = e.status as RunStatus;
    const next: Run = { ...run, status, ...(e.reason !== undefined && { reason: e.reason }) };
    if (status === 'RUNNING' && next.startedAt === undefined) next.startedAt = iso(e.time);
    if (status === 'SUCCESSFUL' || status === 'FAILED' || status === 'CANCELED')
      next.finishedAt = iso(e.time);
    if (status === 'PENDING' || status === 'RUNNING') delete next.finishedAt;
    return next;
  }
  const index = run.jobs.findIndex((j) => j.name === e.job);
  const current = run.jobs[index];
  if (!current) return run;
  const jobs = run.jobs.slice();
  jobs[index] = applyJobEvent(current, e);
  const started = e.status === 'RUNNING' && run.status === 'PENDING';
  return {
    ...run,
    jobs,
    ...(started && { status: 'RUNNING' as const, startedAt: run.startedAt ?? iso(e.time) }),
  };
}

export interface LiveUpdate {
  runs: Run[];
  /** Events named runs not on screen (e.g. a new run): the caller may reload the page. */
  unknown: boolean;
  /** Some run changed its own status (counts by status may have changed). */
  runTransitions: boolean;
}

/** Applies a batch of events, in order, touching only the runs they name. */
export function applyEvents(runs: readonly Run[], events: readonly TransitionEvent[]): LiveUpdate {
  const byUid = new Map(runs.map((r, i) => [r.metadata.uid, i]));
  const next = runs.slice();
  let unknown = false;
  let runTransitions = false;
  for (const e of events) {
    if (e.job === undefined) runTransitions = true;
    const index = byUid.get(e.uid);
    const run = index === undefined ? undefined : next[index];
    if (index === undefined || !run) {
      unknown = true;
      continue;
    }
    next[index] = applyRunEvent(run, e);
  }
  return { runs: next, unknown, runTransitions };
}

/** How many of a run's jobs are in each status. */
export function jobCounts(jobs: readonly Job[]): Record<JobStatus, number> {
  const counts: Record<JobStatus, number> = {
    PENDING: 0,
    RUNNING: 0,
    SUCCESSFUL: 0,
    FAILED: 0,
    SKIPPED: 0,
    CANCELED: 0,
  };
  for (const job of jobs) counts[job.status] = (counts[job.status] ?? 0) + 1;
  return counts;
}

function sameJob(a: Job, b: Job): boolean {
  return (
    a.status === b.status &&
    a.attempt === b.attempt &&
    a.startedAt === b.startedAt &&
    a.finishedAt === b.finishedAt &&
    a.exitCode === b.exitCode &&
    a.reason === b.reason &&
    (a.attempts?.length ?? 0) === (b.attempts?.length ?? 0) &&
    JSON.stringify(a.outputs ?? null) === JSON.stringify(b.outputs ?? null)
  );
}

/**
 * A freshly read run, keeping the objects of the jobs that did not change (and the pipeline),
 * so that only what changed is drawn again.
 */
export function mergeRun(current: Run, fresh: Run): Run {
  const before = new Map(current.jobs.map((j) => [j.name, j]));
  const jobs = fresh.jobs.map((job) => {
    const old = before.get(job.name);
    return old && sameJob(old, job) ? old : job;
  });
  return { ...fresh, jobs, pipeline: current.pipeline ?? fresh.pipeline };
}
