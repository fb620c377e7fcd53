import { describe, expect, it } from 'vitest';
import { isPermanentStatus, parseRetryAfter, retryDelayMs } from './retry.ts';
import { redact } from './secrets.ts';

describe('retryDelayMs', () => {
  const policy = { attempts: 10, delayMs: 100, maxDelayMs: 1000 };

  it('doubles the delay at each retry, up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, n))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('waits longer when the receiver asks, still within the maximum', () => {
    expect(retryDelayMs(policy, 1, 500)).toBe(500);
    expect(retryDelayMs(policy, 3, 50)).toBe(400);
    expect(retryDelayMs(policy, 1, 60_000)).toBe(1000);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Sun, 31 Dec 2023 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('isPermanentStatus', () => {
  it('retries server errors, timeouts and rate limits; not other refusals', () => {
    for (const s of [500, 502, 503, 504, 408, 425, 429]) expect(isPermanentStatus(s)).toBe(false);
    for (const s of [301, 302, 400, 401, 403, 404, 410, 413, 422])
      expect(isPermanentStatus(s)).toBe(true);
  });
});

describe('redact', () => {
  it('replaces every occurrence of every secret, longest first', () => {
    expect(redact('token abc123 and abc123xyz', ['abc123', 'abc123xyz'])).toBe('token *** and ***');
  });

  it('leaves text alone when there is nothing to hide (and ignores trivially short values)', () => {
    expect(redact('HTTP 500 stops', ['s3cr3t', 'ops'])).toBe('HTTP 500 stops');
  });
});
