/** Retry pacing for calls to the API server. */

export interface Backoff {
  /** The first delay (ms). */
  initialMs: number;
  /** The longest delay (ms). */
  maxMs: number;
}

/** Delay before retry number `retry` (0-based): doubling, capped, with ±20% jitter. Pure. */
export function backoffDelay(b: Backoff, retry: number, random = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(retry, 30));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Resolves after `ms`, or at once when `signal` aborts (then `false`). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve(!signal?.aborted);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
