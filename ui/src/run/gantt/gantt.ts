/** The timeline of a run: each job that started as a bar from its start to its end (or now). Pure. */
import type { JobStatus } from '../../../../src/core/types.ts';
import type { Job } from '../../../../src/api/wire.ts';

export interface GanttBar {
  name: string;
  status: JobStatus;
  /** ms from the timeline's origin */
  start: number;
  end: number;
  /** Still running: its end is "now" and moves. */
  open: boolean;
}

export interface GanttModel {
  /** ms since epoch of the earliest start */
  origin: number;
  /** ms the timeline covers (at least one second) */
  span: number;
  bars: GanttBar[];
  /** Jobs that never started (pending, skipped, canceled before starting). */
  notStarted: Job[];
}

const time = (iso: string | undefined) => {
  if (iso === undefined) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

export function ganttModel(jobs: readonly Job[], now: number): GanttModel {
  const started = jobs
    .map((job) => ({ job, start: time(job.startedAt), end: time(job.finishedAt) }))
    .filter(
      (s): s is { job: Job; start: number; end: number | undefined } => s.start !== undefined,
    );
  const notStarted = jobs.filter((j) => time(j.startedAt) === undefined);
  if (started.length === 0) return { origin: now, span: 1000, bars: [], notStarted };
  const origin = Math.min(...started.map((s) => s.start));
  const bars = started
    .map(({ job, start, end }) => {
      const open = end === undefined;
      const stop = Math.max(start, end ?? now);
      return {
        name: job.name,
        status: job.status,
        start: start - origin,
        end: stop - origin,
        open,
      };
    })
    .sort((a, b) => a.start - b.start || a.name.localeCompare(b.name));
  const span = Math.max(1000, ...bars.map((b) => b.end));
  return { origin, span, bars, notStarted };
}

const STEPS_MS = [
  100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000,
  900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/** Round tick positions (ms) across a span, at most `maxTicks` of them, starting at 0. */
export function timeTicks(span: number, maxTicks = 8): number[] {
  const step =
    STEPS_MS.find((s) => span / s <= maxTicks) ??
    Math.ceil(span / maxTicks / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = 0; t <= span; t += step) ticks.push(t);
  return ticks;
}

/** A tick's label: `0`, `500ms`, `1.5s`, `30s`, `2m`, `1m30s`, `1h`. */
export function tickLabel(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000 && ms % 1000 !== 0) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
}
