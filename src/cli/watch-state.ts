/**
 * What a watcher knows of a run, built from the stream's snapshot and transitions. Pure.
 *
 * The server subscribes before it reads the snapshot, so transitions already reflected in the
 * snapshot may follow it; and after a reconnection a fresh snapshot replaces everything. So
 * transitions are applied only when newer than what is known of the job, and the lines a plain
 * watcher prints come from comparing states, never from the raw events.
 */
import { fanOutGroups } from '../core/fan-out.ts';
import type { JobStatus, Pipeline, RunStatus } from '../core/types.ts';
import { isTerminalJob, isTerminalRun } from '../core/types.ts';
import type { Run, TransitionEvent } from '../api/wire.ts';
import { epoch } from './format.ts';

export interface JobState {
  name: string;
  status: JobStatus;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  /** When the status last changed, by the server's clock: orders stale events out. */
  changedAt: number;
  /** Its earlier attempts (retries), oldest first, as the snapshot showed them. */
  earlier?: AttemptState[];
}

export interface AttemptState {
  status: JobStatus;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
}

export interface RunState {
  uid: string;
  name?: string;
  status: RunStatus;
  reason?: string;
  createdAt?: number;
  startedAt?: number;
  finishedAt?: number;
  changedAt: number;
  jobs: JobState[];
  /** The run's pipeline, when the server sent it: what tells a fan-out's instances apart. */
  pipeline?: Pipeline;
}

export interface Transition {
  /** ms since epoch (server clock) */
  time: number;
  /** Absent for the run's own transitions. */
  job?: string;
  status: JobStatus | RunStatus;
  reason?: string;
  /** How long the job or run ran, when it just ended. */
  durationMs?: number;
}

const RANK: Record<JobStatus, number> = {
  PENDING: 0,
  RUNNING: 1,
  SUCCESSFUL: 2,
  FAILED: 2,
  SKIPPED: 2,
  CANCELED: 2,
};

export function fromRun(run: Run): RunState {
  const createdAt = epoch(run.createdAt ?? run.metadata.creationTimestamp);
  const startedAt = epoch(run.startedAt);
  const finishedAt = epoch(run.finishedAt);
  return {
    uid: run.metadata.uid,
    ...(run.metadata.name !== undefined && { name: run.metadata.name }),
    status: run.status,
    reason: run.reason,
    createdAt,
    startedAt,
    finishedAt,
    changedAt: finishedAt ?? startedAt ?? createdAt ?? 0,
    ...(run.pipeline && { pipeline: run.pipeline }),
    jobs: run.jobs.map((j) => {
      const jobStarted = epoch(j.startedAt);
      const jobFinished = epoch(j.finishedAt);
      // The job's attempts end with the current one.
      const earlier = (j.attempts ?? []).slice(0, -1).map((a): AttemptState => ({
        status: a.status,
        startedAt: epoch(a.startedAt),
        finishedAt: epoch(a.finishedAt),
        exitCode: a.exitCode,
        reason: a.reason,
      }));
      return {
        name: j.name,
        status: j.status,
        startedAt: jobStarted,
        finishedAt: jobFinished,
        exitCode: j.exitCode,
        reason: j.reason,
        changedAt: jobFinished ?? jobStarted ?? earlier.at(-1)?.finishedAt ?? createdAt ?? 0,
        ...(earlier.length > 0 && { earlier }),
      };
    }),
  };
}

function isNewer(time: number, changedAt: number, from: JobStatus, to: JobStatus): boolean {
  if (time !== changedAt) return time > changedAt;
  // Same millisecond: only forward (a fast job's RUNNING and SUCCESSFUL can share one).
  return RANK[to] > RANK[from];
}

/** The state after one transition; the same state object when the transition is stale. */
export function applyTransition(state: RunState, event: TransitionEvent): RunState {
  if (event.uid !== state.uid) return state;
  if (event.job === undefined) {
    const status = event.status as RunStatus;
    if (!isNewer(event.time, state.changedAt, state.status, status)) return state;
    return {
      ...state,
      status,
      reason: event.reason,
      changedAt: event.time,
      ...(status === 'RUNNING' && state.startedAt === undefined && { startedAt: event.time }),
      ...(isTerminalRun(status) && { finishedAt: event.time }),
    };
  }
  const index = state.jobs.findIndex((j) => j.name === event.job);
  const job = state.jobs[index];
  if (!job) return withNewJob(state, event.job, event);
  const status = event.status;
  if (!isNewer(event.time, job.changedAt, job.status, status)) return state;
  const next: JobState = { ...job, status, reason: event.reason, changedAt: event.time };
  if (status === 'PENDING') {
    // a retry: the job starts over
    delete next.startedAt;
    delete next.finishedAt;
    delete next.exitCode;
  } else if (status === 'RUNNING') {
    next.startedAt = event.time;
    delete next.finishedAt;
  } else if (isTerminalJob(status)) {
    next.finishedAt = event.time;
  }
  const jobs = [...state.jobs];
  jobs[index] = next;
  return { ...state, jobs };
}

/**
 * The state with a job the snapshot did not have: a forEach job's instance, created after it.
 * It follows its forEach job and the instances before it, as in the run's list of jobs.
 */
function withNewJob(state: RunState, name: string, event: TransitionEvent): RunState {
  const { status, time } = event;
  const job: JobState = {
    name,
    status,
    changedAt: time,
    ...(event.reason !== undefined && { reason: event.reason }),
    ...(status === 'RUNNING' && { startedAt: time }),
    ...(isTerminalJob(status) && { finishedAt: time }),
  };
  const jobs = [...state.jobs, job];
  const group = fanOutGroups(
    state.pipeline,
    jobs.map((j) => j.name),
  ).find((g) => g.instances.includes(name));
  if (group?.kind === 'forEach') {
    const members = new Set([group.name, ...group.instances]);
    const after = state.jobs.findLastIndex((j) => members.has(j.name));
    if (after >= 0) jobs.splice(after + 1, 0, jobs.pop() as JobState);
  }
  return { ...state, jobs };
}

const ran = (started: number | undefined, finished: number | undefined) =>
  started !== undefined && finished !== undefined ? finished - started : undefined;

/** The transitions that lead from one state to the next, jobs first, in time order. */
export function diffStates(prev: RunState | undefined, next: RunState): Transition[] {
  const out: Transition[] = [];
  for (const job of next.jobs) {
    const before = prev?.jobs.find((j) => j.name === job.name);
    const changed = before
      ? before.status !== job.status || before.changedAt !== job.changedAt
      : job.status !== 'PENDING';
    if (!changed) continue;
    const ended = isTerminalJob(job.status);
    out.push({
      time: job.changedAt,
      job: job.name,
      status: job.status,
      ...(job.reason !== undefined && job.status !== 'RUNNING' && { reason: job.reason }),
      ...(ended && { durationMs: ran(job.startedAt, job.finishedAt) }),
    });
  }
  const runChanged = prev
    ? prev.status !== next.status || prev.changedAt !== next.changedAt
    : next.status !== 'PENDING';
  if (runChanged) {
    const ended = isTerminalRun(next.status);
    out.push({
      time: next.changedAt,
      status: next.status,
      ...(next.reason !== undefined && { reason: next.reason }),
      ...(ended && { durationMs: ran(next.startedAt ?? next.createdAt, next.finishedAt) }),
    });
  }
  return out
    .map((t) => (t.durationMs === undefined ? withoutDuration(t) : t))
    .sort((a, b) => a.time - b.time || tieOrder(a) - tieOrder(b));
}

/**
 * The transitions a snapshot shows happened (each attempt's start and end, retries, the run's
 * start and end), in time order: what a watcher attaching late missed. The jobs still waiting
 * come last, at `now`, with why they wait.
 */
export function historyOf(state: RunState, now: number): Transition[] {
  const out: Transition[] = [];
  const attempt = (job: string, a: AttemptState, why?: string) => {
    if (a.startedAt !== undefined) out.push({ time: a.startedAt, job, status: 'RUNNING' });
    if (a.finishedAt === undefined || !isTerminalJob(a.status)) return;
    out.push({
      time: a.finishedAt,
      job,
      status: a.status,
      ...(why !== undefined && { reason: why }),
      ...(a.startedAt !== undefined && { durationMs: a.finishedAt - a.startedAt }),
    });
  };
  for (const job of state.jobs) {
    const earlier = job.earlier ?? [];
    for (const a of earlier) attempt(job.name, a, a.reason);
    const retried = earlier.at(-1)?.finishedAt;
    if (retried !== undefined) {
      // the earlier attempt's end made the job PENDING again, for its retry
      const pendingReason = job.status === 'PENDING' ? job.reason : undefined;
      out.push({
        time: retried,
        job: job.name,
        status: 'PENDING',
        ...(pendingReason !== undefined && { reason: pendingReason }),
      });
    }
    if (job.status === 'PENDING') {
      if (retried === undefined) {
        out.push({
          time: now,
          job: job.name,
          status: 'PENDING',
          ...(job.reason !== undefined && { reason: job.reason }),
        });
      }
      continue;
    }
    const why = job.status === 'RUNNING' ? undefined : job.reason;
    attempt(job.name, job, why);
    // ended without starting: skipped or canceled
    if (job.startedAt === undefined && isTerminalJob(job.status)) {
      out.push({
        time: job.changedAt,
        job: job.name,
        status: job.status,
        ...(why !== undefined && { reason: why }),
      });
    }
  }
  if (state.startedAt !== undefined) out.push({ time: state.startedAt, status: 'RUNNING' });
  if (isTerminalRun(state.status) && state.finishedAt !== undefined) {
    const start = state.startedAt ?? state.createdAt;
    out.push({
      time: state.finishedAt,
      status: state.status,
      ...(state.reason !== undefined && { reason: state.reason }),
      ...(start !== undefined && { durationMs: state.finishedAt - start }),
    });
  }
  return out.sort((a, b) => a.time - b.time || tieOrder(a) - tieOrder(b));
}

/** Within one millisecond, a run starts before its jobs and ends after them. */
function tieOrder(t: Transition): number {
  if (t.job !== undefined) return 0;
  return isTerminalRun(t.status as RunStatus) ? 1 : -1;
}

function withoutDuration(t: Transition): Transition {
  const copy = { ...t };
  delete copy.durationMs;
  return copy;
}
