import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiRateLimiter, retryAfterSeconds, type RequestKind } from './rate-limit.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Asks for tokens and records, in order, which request got one and when (fake ms). */
function record(limiter: ApiRateLimiter) {
  const order: { id: string; at: number }[] = [];
  const start = Date.now();
  const ask = (kind: RequestKind, id: string) =>
    void limiter.acquire(kind).then(() => order.push({ id, at: Date.now() - start }));
  return { order, ask };
}

describe('ApiRateLimiter', () => {
  it('lets a burst go at once, then one request per 1/qps', async () => {
    const { order, ask } = record(new ApiRateLimiter({ qps: 4, burst: 3 }));
    for (const id of ['a', 'b', 'c', 'd', 'e']) ask('read', id);
    await vi.advanceTimersByTimeAsync(0);
    expect(order.map((o) => o.id)).toEqual(['a', 'b', 'c']);
    await vi.advanceTimersByTimeAsync(250);
    expect(order.map((o) => o.id)).toEqual(['a', 'b', 'c', 'd']);
    await vi.advanceTimersByTimeAsync(250);
    expect(order).toEqual([
      { id: 'a', at: 0 },
      { id: 'b', at: 0 },
      { id: 'c', at: 0 },
      { id: 'd', at: 250 },
      { id: 'e', at: 500 },
    ]);
  });

  it('serves creations, reads and deletions in turn: deletions do not starve creations', async () => {
    const { order, ask } = record(new ApiRateLimiter({ qps: 10, burst: 1 }));
    ask('read', 'first');
    for (let i = 0; i < 5; i += 1) ask('delete', `delete ${i}`);
    ask('create', 'create 0');
    ask('create', 'create 1');
    await vi.advanceTimersByTimeAsync(1000);
    expect(order.map((o) => o.id)).toEqual([
      'first',
      'delete 0',
      'create 0',
      'delete 1',
      'create 1',
      'delete 2',
      'delete 3',
      'delete 4',
    ]);
  });

  it("pauses every request for a 429's Retry-After, and counts it", async () => {
    const limiter = new ApiRateLimiter({ qps: 100, burst: 100 });
    const { order, ask } = record(limiter);
    limiter.rejected(2);
    ask('create', 'after the pause');
    await vi.advanceTimersByTimeAsync(1990);
    expect(order).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(order.map((o) => o.id)).toEqual(['after the pause']);
    expect(limiter.counts).toEqual({
      requests: { create: 1, read: 0, delete: 0 },
      waitedSeconds: 2,
      rejections: 1,
    });
  });

  it('pauses a second for a 429 without Retry-After, and at most a minute', async () => {
    const limiter = new ApiRateLimiter({ qps: 100, burst: 100 });
    const { order, ask } = record(limiter);
    limiter.rejected(undefined);
    ask('read', 'x');
    await vi.advanceTimersByTimeAsync(1000);
    expect(order).toHaveLength(1);
    limiter.rejected(86_400);
    ask('read', 'y');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(order).toHaveLength(2);
  });

  it('spends no token on a request abandoned while it waits, and does not count it', async () => {
    const limiter = new ApiRateLimiter({ qps: 10, burst: 1 });
    const { order, ask } = record(limiter);
    ask('read', 'first');
    const abandon = new AbortController();
    const abandoned = limiter.acquire('read', abandon.signal);
    ask('create', 'create');
    abandon.abort(new Error('no longer wanted'));
    await expect(abandoned).rejects.toThrow('no longer wanted');
    await vi.advanceTimersByTimeAsync(100);
    // The create has the token the abandoned read would have had.
    expect(order).toEqual([
      { id: 'first', at: 0 },
      { id: 'create', at: 100 },
    ]);
    expect(limiter.counts.requests).toEqual({ create: 1, read: 1, delete: 0 });
    await expect(limiter.acquire('read', abandon.signal)).rejects.toThrow('no longer wanted');
  });

  it('refuses limits that would stop every request', () => {
    expect(() => new ApiRateLimiter({ qps: 0, burst: 1 })).toThrow(/qps must be above 0/);
    expect(() => new ApiRateLimiter({ qps: 1, burst: 0 })).toThrow(/burst at least 1/);
  });
});

describe('retryAfterSeconds', () => {
  it('reads delay-seconds and HTTP dates', () => {
    expect(retryAfterSeconds('3')).toBe(3);
    expect(
      retryAfterSeconds('Mon, 07 Dec 2026 06:00:10 GMT', Date.parse('2026-12-07T06:00:00Z')),
    ).toBe(10);
    expect(retryAfterSeconds('soon')).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });
});
