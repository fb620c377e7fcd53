/**
 * What a watcher knows of a run, built from the stream's snapshot and transitions. Pure.
 *
 * The server subscribes before it reads the snapshot, so transitions already reflected in the
 * snapshot may follow it; and after a reconnection a fresh snapshot replaces everything. So
 * transitions are applied only when newer than what is known of the job, and the lines a plain
 * watcher prints come from comparing states, never from the raw events.
 */
import type { JobStatus, RunStatus } from '../core/types.ts';
import { isTerminalJob, isTerminalRun } from '../core/types.ts';
import type { Run, TransitionEvent } from './api.ts';
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
    jobs: run.jobs.map((j) => {
      const jobStarted = epoch(j.startedAt);
      const jobFinished = epoch(j.finishedAt);
      return {
        name: j.name,
        status: j.status,
        startedAt: jobStarted,
        finishedAt: jobFinished,
        exitCode: j.exitCode,
        reason: j.reason,
        changedAt: jobFinished ?? jobStarted ?? createdAt ?? 0,
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
  if (!job) return state;
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
