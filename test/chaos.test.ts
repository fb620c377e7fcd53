/**
 * The chaos test: 2 sched, 3 work, 1 notif and 2 recycle processes on one Redis, pipelines of
 * mixed shapes submitted while a random process is SIGKILLed (and restarted) every second. Every
 * accepted run must end with exactly its expected statuses, every attempt that ran must have been
 * executed, and an attempt executed twice only because its first worker was killed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runScenario, summary } from '../src/chaos/scenario.ts';
import { freePort } from '../src/cli/private-redis.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let redis: TestRedis;
let dir: string;
beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'chainr-chaos-'));
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

it(
  'runs every accepted run to its expected end while processes are killed every second',
  { timeout: 300_000 },
  async () => {
    const report = await runScenario({
      redisUrl: redis.url,
      ledger: join(dir, 'ledger'),
      schedPorts: [await freePort(), await freePort()],
      counts: { sched: 2, work: 3, notif: 1, recycle: 2 },
      submitMs: 60_000,
      runs: 240,
      killIntervalMs: 1000,
      drainMs: 120_000,
      print: (line) => console.log(line),
    });
    console.log(summary(report));
    expect(report.wrong).toEqual([]);
    // Submissions retry through whichever sched is up; on a loaded machine some give up.
    expect(report.accepted).toBeGreaterThan(report.submitted / 2);
    expect(report.kills).toBeGreaterThan(30);
    expect(report.missing).toEqual([]);
    expect(report.unexplained).toEqual([]);
    expect(report.crashes).toBe(0);
  },
);
