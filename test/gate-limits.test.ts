/** Rate limits (429 with Retry-After, then recovery) and the refusal to listen unauthenticated. */
import { describe, expect, it } from 'vitest';
import { spawnChainr } from './fixtures/processes.ts';
import {
  START_TIMEOUT_MS,
  TOKENS,
  bearer,
  startGate,
  schedWithTokens,
  writeTokensFile,
} from './gate-fixtures.ts';

const sched = schedWithTokens({
  CHAINR_PREFIX: 'gate-limits:',
  CHAINR_RATE_LIMIT: '1',
  CHAINR_RATE_BURST: '3',
});

const get = (token: string) => fetch(`${sched().url}/api/runs?limit=1`, { headers: bearer(token) });

describe('rate limits', () => {
  // Requests are sent at once: on a loaded machine, one after another could take longer than
  // the refill of one token per second.
  it('answers 429 with Retry-After past the burst, per token, and recovers', async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => get(TOKENS.viewer)));
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
    const limited = answers.find((r) => r.status === 429);
    expect(limited, statuses.join()).toBeDefined();
    const wait = Number(limited!.headers.get('retry-after'));
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(await limited!.json()).toMatchObject({ kind: 'Error' });
    // Another token has its own bucket.
    expect((await get(TOKENS.operator)).status).toBe(200);
    await new Promise((r) => setTimeout(r, wait * 1000 + 100));
    expect((await get(TOKENS.viewer)).status).toBe(200);
  });

  it('limits anonymous callers per address, failed logins included', async () => {
    await new Promise((r) => setTimeout(r, 3100)); // a full bucket
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${sched().url}/api/runs`, { headers: bearer('guess') }),
      ),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length, statuses.join()).toBeGreaterThanOrEqual(3);
    expect(statuses.filter((s) => s === 429).length, statuses.join()).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });
});

describe('exposure', () => {
  it.each([['sched'], ['gate']])(
    'chainr %s refuses to listen on 0.0.0.0 without tokens',
    async (service) => {
      const proc = spawnChainr([service], {
        HOST: '0.0.0.0',
        PORT: '0',
        REDIS_URL: 'redis://127.0.0.1:1',
        CHAINR_UPSTREAMS: 'http://127.0.0.1:1',
      });
      expect(await proc.exited).toBe(2);
      expect(proc.output()).toContain('refusing to listen on 0.0.0.0 without authentication');
      expect(proc.output()).toContain('CHAINR_TOKENS_FILE');
    },
    START_TIMEOUT_MS,
  );

  it(
    'starts on 0.0.0.0 with tokens',
    async () => {
      const gate = await startGate({
        HOST: '0.0.0.0',
        CHAINR_TOKENS_FILE: writeTokensFile(),
        CHAINR_UPSTREAMS: sched().url,
      });
      try {
        const res = await fetch(`${gate.url}/api/runs?limit=1`, { headers: bearer(TOKENS.admin) });
        expect(res.status).toBe(200);
        expect((await fetch(`${gate.url}/api/runs`)).status).toBe(401);
      } finally {
        await gate.kill();
      }
    },
    START_TIMEOUT_MS,
  );
});
