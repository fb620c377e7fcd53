/**
 * Graceful shutdown of a worker: on SIGTERM it takes no more jobs, lets those that end within the
 * grace period finish, and hands the others back at once so another worker takes them over (the
 * attempt stays RUNNING and is restarted), without waiting for the lock to expire — also a job
 * the worker carried on in a slot after its dependency.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { statuses, submit, waitForEnd } from './fixtures/api.ts';
import { makeKeys } from '../src/store/keys.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { startWorkProcess, type ChainrProcess } from './fixtures/processes.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';
import { until } from './fixtures/wait.ts';
import { ledgerLines } from './fixtures/ledger.ts';

let redis: TestRedis;
let api: Harness;
let dir: string;
const workers: ChainrProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  api = await startInProcess(redis.url, { work: false });
  dir = mkdtempSync(join(tmpdir(), 'chainr-shutdown-'));
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill('SIGKILL')));
  await api.stop();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

const LOCK_MS = 30_000;
const GRACE_MS = 1000;

async function startWorker(): Promise<ChainrProcess> {
  const worker = await startWorkProcess(redis.url, api.prefix, {
    CHAINR_SHUTDOWN_GRACE: `${GRACE_MS}ms`,
    CHAINR_LOCK_DURATION: `${LOCK_MS}ms`,
  });
  workers.push(worker);
  return worker;
}

/** Ledger lines: `<job> <worker pid> <time ms>`, one per execution. */
function ledger(): { job: string; pid: number; time: number }[] {
  return ledgerLines(join(dir, 'ledger')).map(([job, pid, time]) => ({
    job: job ?? '',
    pid: Number(pid),
    time: Number(time),
  }));
}

it('finishes what ends within the grace period and hands the rest to another worker at once', async () => {
  const first = await startWorker();
  const go = join(dir, 'go');
  const record = `echo "$CHAINR_JOB_NAME $PPID $(date +%s%3N)" >> ${join(dir, 'ledger')}`;
  const run = await submit(api.url, {
    kind: 'Pipeline',
    jobs: {
      // Ends as soon as the test says so: within the grace period.
      short: { image: 'busybox', run: `${record}; while [ ! -e ${go} ]; do sleep 0.05; done` },
      // Outlives the grace period on the first worker; ends at once where it runs again.
      long: { image: 'busybox', run: `${record}; [ -e ${go} ] || sleep 60` },
    },
  });
  await until(() => ledger().length === 2, 'the second execution', 30_000);
  expect(ledger().map((l) => l.pid)).toEqual([first.child.pid, first.child.pid]);

  const second = await startWorker();
  writeFileSync(go, '');
  const stoppedAt = Date.now();
  const exit = first.kill('SIGTERM');

  const ended = await waitForEnd(api.url, run.metadata.uid, 30_000);
  expect(statuses(ended)).toEqual({ short: 'SUCCESSFUL', long: 'SUCCESSFUL' });
  expect(await exit).toBe(0);
  const taken = ledger().find((l) => l.pid === second.child.pid);
  expect(taken?.job).toBe('long');
  expect(ledger()).toHaveLength(3); // short ran once, long twice
  const pickup = (taken?.time ?? Infinity) - stoppedAt;
  console.log(
    `long taken over ${pickup} ms after SIGTERM (grace ${GRACE_MS} ms, lock ${LOCK_MS} ms)`,
  );
  expect(pickup).toBeGreaterThanOrEqual(GRACE_MS);
  expect(pickup).toBeLessThan(GRACE_MS + 3000);
  // The same attempt, restarted: not a retry.
  expect(ended.jobs.find((j) => j.name === 'long')).toMatchObject({ attempt: 1, exitCode: 0 });
  expect(first.output()).toContain('attempt handed back at shutdown');
}, 120_000);

it('hands back a job carried on after its dependency: the next worker resumes it from its carrier', async () => {
  // Only the workers of this test take jobs.
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGTERM')));
  rmSync(join(dir, 'ledger'), { force: true });
  const first = await startWorker();
  const go = join(dir, 'go-carried');
  const record = `echo "$CHAINR_JOB_NAME $PPID $(date +%s%3N)" >> ${join(dir, 'ledger')}`;
  const after = (job: string) => [{ job }];
  const run = await submit(api.url, {
    kind: 'Pipeline',
    jobs: {
      a: { image: 'busybox', run: record },
      // Carried on in a's slot; outlives the grace period on the first worker.
      b: { image: 'busybox', run: `${record}; [ -e ${go} ] || sleep 60`, dependsOn: after('a') },
      c: { image: 'busybox', run: record, dependsOn: after('b') },
    },
  });
  await until(() => ledger().length === 2, 'the second execution', 30_000);
  const client = redis.client();
  const key = makeKeys(api.prefix).run(run.metadata.uid);
  expect(await client.hget(key, 'b.via')).toBe('a/1');

  const second = await startWorker();
  writeFileSync(go, '');
  const exit = first.kill('SIGTERM');
  const ended = await waitForEnd(api.url, run.metadata.uid, 30_000);
  expect(statuses(ended)).toEqual({ a: 'SUCCESSFUL', b: 'SUCCESSFUL', c: 'SUCCESSFUL' });
  expect(await exit).toBe(0);
  const [p1, p2] = [first.child.pid, second.child.pid];
  expect(ledger().map((l) => [l.job, l.pid])).toEqual([
    ['a', p1],
    ['b', p1],
    ['b', p2],
    ['c', p2],
  ]);
  expect(await client.hmget(key, 'c.via', 'a.cont')).toEqual(['a/1', 'c/1']);
  client.disconnect();
}, 120_000);
