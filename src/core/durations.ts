/** Durations (`90s`, `15m`, `1h30m`) and retry backoff. Pure. */
import type { RetryPolicy } from './types.ts';

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
