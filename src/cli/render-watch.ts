/**
 * What `submit --watch` and `watch` show: the live view redrawn on a terminal, the plain
 * timestamped lines written elsewhere (CI logs), and the summary at the end. Pure.
 */
import {
  countsText,
  fanOutGroups,
  groupStatus,
  isCollapsible,
  type FanOutGroup,
} from '../core/fan-out.ts';
import { isTerminalJob, isTerminalRun, type JobStatus } from '../core/types.ts';
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

/** A line of the live view: a job's, or a fan-out group's, with the jobs it stands for. */
interface Line {
  row: string[];
  /** What it is shown as, for which lines come first when not all fit. */
  status: JobStatus;
  /** The statuses of the jobs it stands for, to count them when it is left out. */
  counts: JobStatus[];
}

/**
 * A fan-out group of more than a few instances as one line (`build ×20`, its status, how long
 * since its first start, its counts by status), followed by a line for each FAILED instance: a
 * user must see which failed.
 */
function groupLines(group: FanOutGroup, jobs: Map<string, JobState>, o: LiveOptions): Line[] {
  const instances = group.instances.flatMap((name) => jobs.get(name) ?? []);
  const statuses = instances.map((j) => j.status);
  const status = groupStatus(statuses);
  const starts = instances.flatMap((j) => (j.startedAt === undefined ? [] : [j.startedAt]));
  const ends = instances.flatMap((j) => (j.finishedAt === undefined ? [] : [j.finishedAt]));
  const ended = statuses.every(isTerminalJob);
  const failed = instances.filter((j) => j.status === 'FAILED');
  const head: Line = {
    row: [
      ` ${paintStatus(statusSymbol(status, o.frame), status, o.color)}`,
      `${group.name} ×${instances.length}`,
      paintStatus(status, status, o.color),
      starts.length === 0
        ? ''
        : elapsed(Math.min(...starts), ended ? Math.max(...ends) : undefined, o.now),
      countsText(statuses),
    ],
    status,
    counts: instances.filter((j) => j.status !== 'FAILED').map((j) => j.status),
  };
  const failures = failed.map((job): Line => {
    const [symbol = '', name, ...rest] = jobRow(job, o);
    return { row: [symbol, `  ${name}`, ...rest], status: job.status, counts: [job.status] };
  });
  return [head, ...failures];
}

/** The lines of the jobs, in the run's order, each large fan-out group as one (and its failures). */
function jobLines(state: RunState, o: LiveOptions): Line[] {
  const groups = fanOutGroups(
    state.pipeline,
    state.jobs.map((j) => j.name),
  ).filter(isCollapsible);
  /** The group each job is drawn in: its instances, and a forEach job itself. */
  const inGroup = new Map<string, FanOutGroup>();
  for (const group of groups) {
    for (const name of group.instances) inGroup.set(name, group);
    if (group.kind === 'forEach') inGroup.set(group.name, group);
  }
  const byName = new Map(state.jobs.map((j) => [j.name, j]));
  const drawn = new Set<FanOutGroup>();
  return state.jobs.flatMap((job): Line[] => {
    const group = inGroup.get(job.name);
    if (!group) return [{ row: jobRow(job, o), status: job.status, counts: [job.status] }];
    if (drawn.has(group)) return [];
    drawn.add(group);
    return groupLines(group, byName, o);
  });
}

/** Most telling first when not every line fits: running, then failed, then the rest in order. */
function pickLines(lines: Line[], room: number): { shown: Line[]; hidden: Line[] } {
  if (lines.length <= room) return { shown: lines, hidden: [] };
  const priority = (l: Line) =>
    l.status === 'RUNNING' ? 0 : l.status === 'FAILED' ? 1 : l.status === 'PENDING' ? 3 : 2;
  const chosen = new Set(
    lines
      .map((l, i) => ({ l, i }))
      .sort((a, b) => priority(a.l) - priority(b.l) || a.i - b.i)
      .slice(0, Math.max(0, room))
      .map(({ l }) => l),
  );
  return {
    shown: lines.filter((l) => chosen.has(l)),
    hidden: lines.filter((l) => !chosen.has(l)),
  };
}

/**
 * The lines of the live view: a header, one line per job (one per large fan-out group, and one per
 * failed instance of it), and a count of the jobs not shown.
 */
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
  const all = jobLines(state, o);
  const { shown, hidden } = pickLines(all, all.length <= room ? room : room - 1);
  const lines = [header, ...table(shown.map((l) => l.row))];
  if (hidden.length > 0) {
    const statuses = hidden.flatMap((l) => l.counts);
    const more = `   … ${statuses.length} more: ${countsLine(statuses)}`;
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
