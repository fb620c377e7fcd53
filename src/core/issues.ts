/**
 * Problems found in a pipeline document, located by a path of keys and indexes, and how
 * those paths are written (`jobs.error.dependsOn[0].job`, `jobs["a b"]`) and ordered.
 */
import type { PipelineError } from './types.ts';

/** An object key or an array index. */
export type Segment = string | number;

export interface Issue {
  /** Where the problem is reported. */
  path: Segment[];
  message: string;
  /** Where to point in the source text, when not at `path` (e.g. at an unknown field's key). */
  at?: Segment[];
  /** Point at the key of the last segment rather than at its value. */
  atKey?: boolean;
  /** A position inside the string value at `path` (0-based), e.g. in a `when` expression. */
  offset?: number;
}

/** At most this many errors are reported; the rest are summed up in one last error. */
export const MAX_ERRORS = 100;

const PLAIN_KEY = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;

/** Writes a path: dots for identifier-like keys, `["..."]` for other keys, `[i]` for indexes. */
export function formatPath(path: readonly Segment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Orders paths segment by segment: indexes numerically, keys by code unit, parents first. */
export function comparePaths(a: readonly Segment[], b: readonly Segment[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as Segment;
    const y = b[i] as Segment;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Sorts issues stably by path and caps their number at MAX_ERRORS. */
export function sortIssues(issues: Issue[]): Issue[] {
  const sorted = [...issues].sort((a, b) => comparePaths(a.path, b.path));
  if (sorted.length <= MAX_ERRORS) return sorted;
  const rest = sorted.length - MAX_ERRORS;
  return [
    ...sorted.slice(0, MAX_ERRORS),
    { path: [], message: `${rest} more error${rest === 1 ? '' : 's'} not shown` },
  ];
}

export function toPipelineError(issue: Issue): PipelineError {
  return { path: formatPath(issue.path), message: issue.message };
}

/** Problems in the order of the text, as a compiler reports them (the core orders them by path). */
export function inFileOrder(errors: readonly PipelineError[]): PipelineError[] {
  return [...errors].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
}

/** `path: message`, or the message alone for a problem with the whole document. */
export function formatError(e: PipelineError): string {
  return e.path === '' ? e.message : `${e.path}: ${e.message}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own property lookup: never reaches into the prototype (`constructor`, `__proto__`). */
export function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
