import { describe, expect, it } from 'vitest';
import { parseDuration, retryDelayMs } from './durations.ts';

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['90s', 90_000],
    ['15m', 900_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1m30s', 90_000],
    ['2h0m5s10ms', 7_205_010],
    ['0s', 0],
    ['1s1s', 2000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('reads "ms" as milliseconds, not minutes then something', () => {
    expect(parseDuration('5ms')).toBe(5);
    expect(parseDuration('5m5s')).toBe(305_000);
  });
});

describe('retryDelayMs', () => {
  it('defaults to a fixed 1 s', () => {
    expect(retryDelayMs({ limit: 3 }, 1)).toBe(1000);
    expect(retryDelayMs({ limit: 3 }, 3)).toBe(1000);
    expect(retryDelayMs({ limit: 3, backoff: {} }, 2)).toBe(1000);
  });

  it('fixed: always the delay, whatever maxDelay says', () => {
    const policy = {
      limit: 5,
      backoff: { type: 'fixed' as const, delay: '200ms', maxDelay: '1ms' },
    };
    expect([1, 2, 3, 4].map((n) => retryDelayMs(policy, n))).toEqual([200, 200, 200, 200]);
  });

  it('exponential: the delay doubled at each retry', () => {
    const policy = { limit: 5, backoff: { type: 'exponential' as const, delay: '200ms' } };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(policy, n))).toEqual([
      200, 400, 800, 1600, 3200,
    ]);
  });

  it('exponential: capped at maxDelay (default 1 h)', () => {
    const capped = {
      limit: 10,
      backoff: { type: 'exponential' as const, delay: '1s', maxDelay: '5s' },
    };
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(capped, n))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
    const uncapped = { limit: 100, backoff: { type: 'exponential' as const, delay: '1m' } };
    expect(retryDelayMs(uncapped, 6)).toBe(32 * 60_000);
    expect(retryDelayMs(uncapped, 7)).toBe(3_600_000);
    expect(retryDelayMs(uncapped, 100)).toBe(3_600_000);
  });

  it('exponential with the default delay starts at 1 s', () => {
    expect(retryDelayMs({ limit: 2, backoff: { type: 'exponential' } }, 1)).toBe(1000);
    expect(retryDelayMs({ limit: 2, backoff: { type: 'exponential' } }, 2)).toBe(2000);
  });
});
