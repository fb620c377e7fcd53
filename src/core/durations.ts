/** Durations (`90s`, `15m`, `1h30m`) and retry backoff. Pure. */
import type { Issue } from './issues.ts';
import { isRecord, own } from './issues.ts';
import type { RetryPolicy } from './types.ts';

const DURATION = /^([0-9]+(ms|s|m|h))+$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration the schema accepted (`^([0-9]+(ms|s|m|h))+$`). */
export function parseDuration(text: string): number {
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(amount) * (UNIT_MS[unit as string] ?? 0);
  }
  return total;
}

/** The wait before retry number `retry` (1 for the first retry). */
export function retryDelayMs(policy: RetryPolicy, retry: number): number {
  const delay = parseDuration(policy.backoff?.delay ?? '1s');
  if (policy.backoff?.type !== 'exponential') return delay;
  const max = parseDuration(policy.backoff.maxDelay ?? '1h');
  return Math.min(delay * 2 ** (retry - 1), max);
}

/** Durations that parse but make no sense: a zero timeout would kill every job at once. */
export function durationIssues(value: unknown): Issue[] {
  if (!isRecord(value) || !isRecord(value.jobs)) return [];
  const issues: Issue[] = [];
  for (const [job, spec] of Object.entries(value.jobs)) {
    const timeout = isRecord(spec) ? own(spec, 'timeout') : undefined;
    if (typeof timeout === 'string' && DURATION.test(timeout) && parseDuration(timeout) === 0) {
      issues.push({ path: ['jobs', job, 'timeout'], message: 'must be longer than 0' });
    }
  }
  return issues;
}
