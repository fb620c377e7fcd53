/**
 * A run's fan-out groups, for whoever shows a run (the web UI's graph, `chainr watch`): the
 * instances of a matrix job (expanded at submission, each naming its job with `matrixOf`) and
 * of a forEach job (created when it is decided, `<job>-0`, `<job>-1`...: jobs of the run that
 * its pipeline does not have). Pure.
 */
import type { JobStatus, Pipeline } from './types.ts';

export interface FanOutGroup {
  /** The matrix or forEach job. A forEach job is a job of the run too; a matrix job is not. */
  name: string;
  kind: 'matrix' | 'forEach';
  /** In the run's order. */
  instances: string[];
}

/**
 * Groups of more instances than this are shown as one line or node, with counts by status;
 * smaller ones read as well instance by instance.
 */
export const GROUP_ABOVE = 4;

const INSTANCE_INDEX = /-[0-9]+$/;

/**
 * The fan-out groups among a run's jobs (`names`, in the run's order), each with at least one
 * instance, in the order of their first instance. The pipeline is the run's, matrices expanded.
 */
export function fanOutGroups(
  pipeline: Pipeline | undefined,
  names: readonly string[],
): FanOutGroup[] {
  const specs = pipeline?.jobs ?? {};
  const groups = new Map<string, FanOutGroup>();
  for (const name of names) {
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    let group: string | undefined;
    let kind: FanOutGroup['kind'] = 'matrix';
    if (spec) group = spec.matrixOf;
    else if (INSTANCE_INDEX.test(name)) {
      const job = name.replace(INSTANCE_INDEX, '');
      if (Object.hasOwn(specs, job) && specs[job]?.forEach !== undefined) {
        group = job;
        kind = 'forEach';
      }
    }
    if (group === undefined) continue;
    const found = groups.get(group);
    if (found) found.instances.push(name);
    else groups.set(group, { name: group, kind, instances: [name] });
  }
  return [...groups.values()];
}

/** Whether a group is shown as one (GROUP_ABOVE). */
export const isCollapsible = (group: FanOutGroup) => group.instances.length > GROUP_ABOVE;

/**
 * The status a group is shown in: RUNNING while any instance runs or some have ended and others
 * not, PENDING while none has started; once all have ended, FAILED if one failed, else CANCELED if
 * one was canceled, else SUCCESSFUL if one succeeded, else SKIPPED.
 */
export function groupStatus(statuses: readonly JobStatus[]): JobStatus {
  const has = (s: JobStatus) => statuses.includes(s);
  if (has('RUNNING')) return 'RUNNING';
  if (has('PENDING')) return statuses.every((s) => s === 'PENDING') ? 'PENDING' : 'RUNNING';
  for (const s of ['FAILED', 'CANCELED', 'SUCCESSFUL'] as const) if (has(s)) return s;
  return 'SKIPPED';
}

/** The order counts by status are shown in: what ended first, then what is still to come. */
const COUNT_ORDER: readonly JobStatus[] = [
  'SUCCESSFUL',
  'FAILED',
  'SKIPPED',
  'CANCELED',
  'RUNNING',
  'PENDING',
];

/** How many of the statuses are in each status, the absent ones left out (COUNT_ORDER). */
export function countByStatus(statuses: readonly JobStatus[]): [JobStatus, number][] {
  const counts = new Map<JobStatus, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  return COUNT_ORDER.filter((s) => counts.has(s)).map((s) => [s, counts.get(s) ?? 0]);
}

/** Ended statuses as their symbol, the others as a word: `12 ✓ 3 ✗ 5 running`. */
export const COUNT_WORD: Record<JobStatus, string> = {
  SUCCESSFUL: '✓',
  FAILED: '✗',
  SKIPPED: '↷',
  CANCELED: '⊘',
  RUNNING: 'running',
  PENDING: 'pending',
};

/** A group's counts as one short text: `12 ✓ 3 ✗ 5 running`. */
export function countsText(statuses: readonly JobStatus[]): string {
  return countByStatus(statuses)
    .map(([s, n]) => `${n} ${COUNT_WORD[s]}`)
    .join(' ');
}
