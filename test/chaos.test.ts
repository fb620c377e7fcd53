/**
 * The chaos test: 2 sched, 3 work, 1 notif and 2 recycle processes on one Redis, pipelines of
 * mixed shapes submitted while a random process is SIGKILLed (and restarted) every second. Every
 * accepted run must end with exactly its expected statuses, every attempt that ran must have been
 * executed, and an attempt executed twice only because its first worker was killed. Then once
 * more, shorter, on a Sentinel topology whose Redis master is SIGKILLed too, every ~10 s.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runScenario, summary, type ScenarioOptions } from '../src/chaos/scenario.ts';
import { freePort } from '../src/process/private-redis.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { startSentinel } from './fixtures/redis-sentinel.ts';

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

async function chaos(redis: ScenarioOptions['redis'], submitMs: number, runs: number) {
  const report = await runScenario({
    redis,
    ledger: join(dir, `ledger-${Date.now()}`),
    schedPorts: [await freePort(), await freePort()],
    counts: { sched: 2, work: 3, notif: 1, recycle: 2 },
    submitMs,
    runs,
    killIntervalMs: 1000,
    drainMs: 120_000,
    print: (line) => console.log(line),
  });
  console.log(summary(report));
  expect(report.wrong).toEqual([]);
  // Submissions retry through whichever sched is up, each for 60 s. On a loaded machine a killed
  // sched can take longer than that to come back (27 s to start, seen in CI), and half gave up
  // once: the bound asks that chaos does not stop submissions, not how fast the machine is.
  expect(report.accepted).toBeGreaterThan(report.submitted / 4);
  expect(report.kills).toBeGreaterThan(submitMs / 2000);
  expect(report.missing).toEqual([]);
  expect(report.unexplained).toEqual([]);
  expect(report.crashes).toBe(0);
  return report;
}

it(
  'runs every accepted run to its expected end while processes are killed every second',
  { timeout: 300_000 },
  async () => {
    await chaos({ url: redis.url }, 60_000, 240);
  },
);

it(
  'does so on Sentinel too, while the Redis master is killed every ~10 s',
  { timeout: 600_000 },
  async () => {
    const topology = await startSentinel();
    try {
      const report = await chaos({ sentinel: topology, masterKillIntervalMs: 10_000 }, 30_000, 100);
      expect(report.masterKills.length).toBeGreaterThan(0);
    } finally {
      await topology.remove();
    }
  },
);

it('`npm run chaos` refuses what it does not know with its usage, and prints it on --help', () => {
  const chaos = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/chaos/main.ts', ...args], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  const unknown = chaos('--bogus');
  expect(unknown.status).toBe(2);
  expect(unknown.stderr).toMatch(/^Unknown option '--bogus'.*\nusage: npm run chaos -- /s);
  const badDuration = chaos('--duration', 'ten');
  expect(badDuration.status).toBe(2);
  expect(badDuration.stderr).toContain(
    '--duration: expected a duration such as "90s" or "10m", got "ten"',
  );
  const help = chaos('--help');
  expect(help.status).toBe(0);
  expect(help.stdout).toMatch(/^usage: npm run chaos -- \[--duration 10m\]/);
});
