/**
 * The worker's manners towards the API server, as client-go's: a token bucket of `qps` requests a
 * second with bursts of `burst`, for every request (watches and log streams as they start), and a
 * pause of every request when the server answers 429 Too Many Requests (its own overload, or API
 * Priority and Fairness rejecting the worker's flow) for as long as its Retry-After says.
 *
 * Requests wait in three queues served in turn: creations, reads (lists, watches, logs, gets) and
 * deletions, so that a burst of deletions (a run canceled) does not hold back the creation of Jobs,
 * nor the other way round.
 */
export type RequestKind = 'create' | 'read' | 'delete';
const KINDS: RequestKind[] = ['create', 'read', 'delete'];

export interface RateLimits {
  /** Requests a second, sustained. */
  qps: number;
  /** Requests that may go at once after a quiet spell. */
  burst: number;
}

/** kube-controller-manager's (--kube-api-qps 20, --kube-api-burst 30); client-go's own are 5/10. */
export const DEFAULT_RATE_LIMITS: RateLimits = { qps: 20, burst: 30 };

export interface ApiCounts {
  requests: Record<RequestKind, number>;
  /** Time requests spent waiting for a token or a pause to end (seconds, summed over requests). */
  waitedSeconds: number;
  /** 429 answers (overload or API Priority and Fairness), each pausing every request. */
  rejections: number;
}

/** Longest pause a Retry-After can impose (a wrong header must not stop the worker for hours). */
const MAX_PAUSE_MS = 60_000;

export class ApiRateLimiter {
  private tokens: number;
  private refilledAt: number;
  private pausedUntil = 0;
  private readonly queues: Record<RequestKind, (() => void)[]> = {
    create: [],
    read: [],
    delete: [],
  };
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;
  readonly counts: ApiCounts = {
    requests: { create: 0, read: 0, delete: 0 },
    waitedSeconds: 0,
    rejections: 0,
  };

  constructor(
    readonly limits: RateLimits = DEFAULT_RATE_LIMITS,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limits.qps > 0) || !(limits.burst >= 1))
      throw new Error(
        `Kubernetes API rate limits: qps must be above 0 and burst at least 1 (got ${limits.qps}/${limits.burst})`,
      );
    this.tokens = limits.burst;
    this.refilledAt = now();
  }

  /**
   * Resolves when a request of this kind may be sent. Aborted while waiting (a log stream no
   * longer wanted), it rejects with the signal's reason and leaves its queue: no token is spent
   * on a request that will not be sent, and it is not counted.
   */
  acquire(kind: RequestKind, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    const asked = this.now();
    return new Promise<void>((resolve, reject) => {
      const queue = this.queues[kind];
      const onAbort = () => {
        const at = queue.indexOf(waiter);
        if (at !== -1) queue.splice(at, 1);
        reject(signal?.reason as Error);
      };
      const waiter = () => {
        signal?.removeEventListener('abort', onAbort);
        this.counts.requests[kind] += 1;
        this.counts.waitedSeconds += (this.now() - asked) / 1000;
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      queue.push(waiter);
      this.pump();
    });
  }

  /** The server answered 429: every request waits `retryAfterSeconds` (1 s when it said none). */
  rejected(retryAfterSeconds: number | undefined): void {
    this.counts.rejections += 1;
    const seconds =
      retryAfterSeconds !== undefined && retryAfterSeconds > 0 ? retryAfterSeconds : 1;
    this.pausedUntil = Math.max(
      this.pausedUntil,
      this.now() + Math.min(seconds * 1000, MAX_PAUSE_MS),
    );
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(
      this.limits.burst,
      this.tokens + ((now - this.refilledAt) / 1000) * this.limits.qps,
    );
    this.refilledAt = now;
  }

  private next(): (() => void) | undefined {
    for (let i = 0; i < KINDS.length; i += 1) {
      const kind = KINDS[(this.turn + i) % KINDS.length] as RequestKind;
      const waiter = this.queues[kind].shift();
      if (waiter) {
        this.turn = (this.turn + i + 1) % KINDS.length;
        return waiter;
      }
    }
    return undefined;
  }

  private pump(): void {
    if (this.timer) return;
    for (;;) {
      if (!KINDS.some((k) => this.queues[k].length > 0)) return;
      const paused = this.pausedUntil - this.now();
      this.refill();
      if (paused <= 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.next()?.();
        continue;
      }
      const wait = Math.max(paused, ((1 - this.tokens) / this.limits.qps) * 1000, 1);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, wait);
      return;
    }
  }
}

/** Retry-After in seconds (RFC 9110: delay-seconds or an HTTP date). */
export function retryAfterSeconds(
  header: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return seconds;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - now) / 1000);
}
