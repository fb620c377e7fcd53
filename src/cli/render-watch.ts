/**
 * What `submit --watch` and `watch` show: the live view redrawn on a terminal, the plain
 * timestamped lines written elsewhere (CI logs), and the summary at the end. Pure.
 */
import { isTerminalRun } from '../core/types.ts';
import {
  countsLine,
  formatDuration,
  paint,
  paintStatus,
  statusSymbol,
  table,
  truncate,
} from './format.ts';
import type { JobState, RunState, Transition } from './watch-state.ts';

export interface LiveOptions {
  /** The server's current time (the client's clock, corrected by the measured offset). */
  now: number;
  /** Spinner frame */
  frame: number;
  color: boolean;
  /** Terminal size; lines are cut to the width, jobs summed up beyond the height. */
  columns: number;
  rows: number;
  /** A line under the view, e.g. `reconnecting…` */
  note?: string;
}

function elapsed(start: number | undefined, end: number | undefined, now: number): string {
  if (start === undefined) return '';
  return formatDuration((end ?? now) - start);
}

function jobRow(job: JobState, o: LiveOptions): string[] {
  const symbol = paintStatus(statusSymbol(job.status, o.frame), job.status, o.color);
  // also while PENDING again: why it is being retried
  const showReason = job.reason !== undefined && job.status !== 'RUNNING';
  return [
    ` ${symbol}`,
    job.name,
    paintStatus(job.status, job.status, o.color),
    elapsed(job.startedAt, job.finishedAt, o.now),
    showReason ? paint(job.reason ?? '', 'dim', o.color) : '',
  ];
}

/** Most telling first when not every job fits: running, then failed, then the rest in order. */
function pickJobs(jobs: JobState[], room: number): { shown: JobState[]; hidden: JobState[] } {
  if (jobs.length <= room) return { shown: jobs, hidden: [] };
  const priority = (j: JobState) =>
    j.status === 'RUNNING' ? 0 : j.status === 'FAILED' ? 1 : j.status === 'PENDING' ? 3 : 2;
  const chosen = new Set(
    [...jobs]
      .map((j, i) => ({ j, i }))
      .sort((a, b) => priority(a.j) - priority(b.j) || a.i - b.i)
      .slice(0, Math.max(0, room))
      .map(({ j }) => j),
  );
  return {
    shown: jobs.filter((j) => chosen.has(j)),
    hidden: jobs.filter((j) => !chosen.has(j)),
  };
}

/** The lines of the live view: a header, one line per job, and a count of the jobs not shown. */
export function renderLive(state: RunState, o: LiveOptions): string[] {
  const runSymbol = paintStatus(statusSymbol(state.status, o.frame), state.status, o.color);
  const title = state.name ? `${state.name} ` : '';
  const header = [
    runSymbol,
    paint(`${title}run ${state.uid}`, 'bold', o.color),
    paintStatus(state.status, state.status, o.color),
    elapsed(state.startedAt ?? state.createdAt, state.finishedAt, o.now),
  ].join('  ');
  // Keep the view within the screen, so that redrawing in place never scrolls.
  const room = Math.max(2, o.rows - 2 - (o.note ? 1 : 0));
  const { shown, hidden } = pickJobs(state.jobs, state.jobs.length <= room ? room : room - 1);
  const lines = [header, ...table(shown.map((j) => jobRow(j, o)))];
  if (hidden.length > 0) {
    const more = `   … ${hidden.length} more: ${countsLine(hidden.map((j) => j.status))}`;
    lines.push(paint(more, 'dim', o.color));
  }
  if (o.note) lines.push(paint(o.note, 'yellow', o.color));
  return lines.map((line) => truncate(line, Math.max(10, o.columns - 1)));
}

/** A plain line for a CI log: `2024-05-01T10:00:00.000Z job load FAILED after 1.2s: exit code 1`. */
export function renderTransition(t: Transition): string {
  const what = t.job === undefined ? 'run' : `job ${t.job}`;
  const took = t.durationMs === undefined ? '' : ` after ${formatDuration(t.durationMs)}`;
  const why = t.reason ? `: ${t.reason}` : '';
  return `${new Date(t.time).toISOString()} ${what} ${t.status}${took}${why}`;
}

/** The first line of a plain watch: which run, how many jobs, and its status so far. */
export function renderWatchStart(state: RunState, now: number): string {
  const title = state.name ? ` (${state.name})` : '';
  const jobs = `${state.jobs.length} job${state.jobs.length === 1 ? '' : 's'}`;
  return `${new Date(now).toISOString()} watching run ${state.uid}${title}: ${jobs}, ${state.status}`;
}

/** The summary once the run has ended: outcome, counts, and what failed and why. */
export function renderSummary(state: RunState, color: boolean, self = 'chainr'): string[] {
  const start = state.startedAt ?? state.createdAt;
  const took =
    start !== undefined && state.finishedAt !== undefined
      ? ` in ${formatDuration(state.finishedAt - start)}`
      : '';
  const outcome = paintStatus(state.status, state.status, color);
  const lines = [
    `${paintStatus(statusSymbol(state.status), state.status, color)} run ${state.uid} ${outcome}${took}: ${countsLine(state.jobs.map((j) => j.status))}`,
  ];
  if (state.reason && state.status !== 'SUCCESSFUL') lines.push(`  reason: ${state.reason}`);
  const failed = state.jobs.filter((j) => j.status === 'FAILED');
  for (const job of failed) {
    const why = job.reason ?? (job.exitCode !== undefined ? `exit code ${job.exitCode}` : 'failed');
    lines.push(`  ${paint('✗', 'red', color)} ${job.name}: ${why}`);
  }
  if (failed[0]) lines.push(`  logs: ${self} logs ${state.uid} ${failed[0].name}`);
  return lines;
}

/** The exit code of a watched run: 0 SUCCESSFUL, 1 FAILED, 2 CANCELED. */
export function exitCodeOf(state: RunState): number {
  if (!isTerminalRun(state.status)) throw new Error(`run ${state.uid} has not ended`);
  return state.status === 'SUCCESSFUL' ? 0 : state.status === 'FAILED' ? 1 : 2;
}
