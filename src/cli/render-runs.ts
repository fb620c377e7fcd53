/** `runs list` as a table and `runs get` as a description with its jobs. Pure. */
import type { Job, Run } from '../api/wire.ts';
import {
  countsLine,
  epoch,
  formatAge,
  formatDuration,
  paint,
  paintStatus,
  statusSymbol,
  table,
} from './format.ts';

function runDuration(run: Run, now: number): string {
  const start = epoch(run.startedAt);
  if (start === undefined) return '';
  return formatDuration((epoch(run.finishedAt) ?? now) - start);
}

function jobDuration(job: Job, now: number): string {
  const start = epoch(job.startedAt);
  if (start === undefined) return '';
  return formatDuration((epoch(job.finishedAt) ?? now) - start);
}

function pairsText(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** `3/4` jobs ended, with the failed ones counted when there are any. */
function progress(run: Run): string {
  const ended = run.jobs.filter((j) => j.status !== 'PENDING' && j.status !== 'RUNNING').length;
  const failed = run.jobs.filter((j) => j.status === 'FAILED').length;
  return `${ended}/${run.jobs.length}${failed ? ` (${failed} failed)` : ''}`;
}

export function renderRunTable(runs: Run[], now: number, color: boolean): string[] {
  if (runs.length === 0) return ['No runs.'];
  const withNames = runs.some((r) => r.metadata.name);
  const withLabels = runs.some((r) => Object.keys(r.metadata.labels ?? {}).length > 0);
  const header = [
    'UID',
    ...(withNames ? ['NAME'] : []),
    'STATUS',
    'JOBS',
    'AGE',
    'DURATION',
    ...(withLabels ? ['LABELS'] : []),
  ];
  const rows = runs.map((run) => {
    const created = epoch(run.createdAt ?? run.metadata.creationTimestamp);
    return [
      run.metadata.uid,
      ...(withNames ? [run.metadata.name ?? ''] : []),
      paintStatus(run.status, run.status, color),
      progress(run),
      created === undefined ? '' : formatAge(now - created),
      runDuration(run, now),
      ...(withLabels ? [pairsText(run.metadata.labels)] : []),
    ];
  });
  return table([header.map((h) => paint(h, 'bold', color)), ...rows]);
}

function when(iso: string | undefined, now: number): string {
  const ms = epoch(iso);
  return ms === undefined || iso === undefined ? '—' : `${iso} (${formatAge(now - ms)} ago)`;
}

export function renderRunDetail(run: Run, now: number, color: boolean): string[] {
  const fields: [string, string][] = [
    ['Run', run.metadata.uid],
    ...(run.metadata.name ? [['Name', run.metadata.name] as [string, string]] : []),
    ...(run.metadata.labels && Object.keys(run.metadata.labels).length > 0
      ? [['Labels', pairsText(run.metadata.labels)] as [string, string]]
      : []),
    ...(run.params && Object.keys(run.params).length > 0
      ? [['Params', pairsText(run.params)] as [string, string]]
      : []),
    ['Status', paintStatus(run.status, run.status, color)],
    ...(run.reason ? [['Reason', run.reason] as [string, string]] : []),
    ['Created', when(run.createdAt ?? run.metadata.creationTimestamp, now)],
    ['Started', when(run.startedAt, now)],
    ['Finished', when(run.finishedAt, now)],
    ['Duration', runDuration(run, now) || '—'],
    ['Jobs', countsLine(run.jobs.map((j) => j.status)) || 'none'],
  ];
  const head = table(fields.map(([k, v]) => [paint(`${k}:`, 'bold', color), v]));
  const jobRows = run.jobs.map((job) => [
    paintStatus(statusSymbol(job.status), job.status, color),
    job.name,
    paintStatus(job.status, job.status, color),
    job.executor ?? '',
    job.attempt === undefined ? '' : String(job.attempt),
    jobDuration(job, now),
    job.exitCode === undefined ? '' : String(job.exitCode),
    job.reason ?? '',
  ]);
  const jobsHeader = ['', 'JOB', 'STATUS', 'EXECUTOR', 'ATTEMPT', 'DURATION', 'EXIT', 'REASON'];
  return [...head, '', ...table([jobsHeader.map((h) => paint(h, 'bold', color)), ...jobRows])];
}
