/** When the next attempt of a failed delivery is due. Pure. */
import type { RetryPolicy } from './settings.ts';

/**
 * The wait before retry number `retry` (1 for the first): the policy's delay doubled at each
 * retry, at most its maxDelay; longer when the receiver asked for it (Retry-After), up to the same cap.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfterMs?: number): number {
  const exponential = policy.delayMs * 2 ** Math.max(0, retry - 1);
  return Math.min(Math.max(exponential, retryAfterMs ?? 0), policy.maxDelayMs);
}

/** A Retry-After header (seconds, or an HTTP date) in ms from `now`; undefined when unusable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^[0-9]+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Whether an HTTP answer refuses the notification itself, so that retrying cannot help. */
export function isPermanentStatus(status: number): boolean {
  if (status >= 300 && status < 400) return true; // redirects are not followed
  return status >= 400 && status < 500 && ![408, 425, 429].includes(status);
}
