/**
 * A worker that dies mid-job (SIGKILL): its attempt runs again on another worker as soon as the
 * dead worker's registration lapses (three heartbeats), long before BullMQ's lock on it would
 * have expired (60 s here), and only once. And the other way round: a worker that lost the lock
 * of an attempt it still runs (stopped for longer than the lock) keeps it; the re-delivery the
 * lock's expiry causes is refused while that worker is registered and holds it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { statuses, submit, waitForEnd } from './fixtures/api.ts';
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
  dir = mkdtempSync(join(tmpdir(), 'chainr-dead-worker-'));
});
// Each test on keys of its own: BullMQ's stalled-job check of one queue runs at most once per
// lock duration of the workers that last ran it.
beforeEach(async () => {
  api = await startInProcess(redis.url, { work: false });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
  await api.stop();
  rmSync(join(dir, 'ledger'), { force: true });
});
afterAll(async () => {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function startWorker(env: Record<string, string>): Promise<ChainrProcess> {
  const worker = await startWorkProcess(redis.url, api.prefix, env);
  workers.push(worker);
  return worker;
}

/** Ledger lines: `<worker pid> <time ms>`, one per execution of the job. */
function ledger(): { pid: number; time: number }[] {
  return ledgerLines(join(dir, 'ledger')).map(([pid, time]) => ({
    pid: Number(pid),
    time: Number(time),
  }));
}

/** A job that records each execution, then runs until `go` exists. */
function waitingJob(go: string) {
  const record = `echo "$PPID $(date +%s%3N)" >> ${join(dir, 'ledger')}`;
  return {
    kind: 'Pipeline',
    jobs: {
      long: { image: 'busybox', run: `${record}; while [ ! -e ${go} ]; do sleep 0.05; done` },
    },
  };
}

const LOCK_MS = 60_000;

it("runs a killed worker's attempt again on another worker once its registration lapses, before the lock expires, once", async () => {
  const settings = { CHAINR_LOCK_DURATION: `${LOCK_MS}ms` }; // the heartbeat at its default
  const first = await startWorker(settings);
  const go = join(dir, 'go-killed');
  const run = await submit(api.url, waitingJob(go));
  await until(() => ledger().length === 1, 'the first execution', 30_000);
  expect(ledger()[0]?.pid).toBe(first.child.pid);

  const second = await startWorker(settings);
  const killedAt = Date.now();
  await first.kill('SIGKILL');
  // Only the hand-back can explain a second execution before the lock (60 s) expires.
  await until(() => ledger().length === 2, 'the second execution', LOCK_MS - 5000);
  const rerun = ledger()[1];
  console.log(`attempt running again ${(rerun?.time ?? 0) - killedAt} ms after its worker's death`);
  expect(rerun?.pid).toBe(second.child.pid);
  expect(second.output()).toContain(
    'handed back the attempt of a worker whose registration lapsed',
  );

  writeFileSync(go, '');
  const ended = await waitForEnd(api.url, run.metadata.uid, 30_000);
  expect(statuses(ended)).toEqual({ long: 'SUCCESSFUL' });
  // The same attempt, run again: not a retry; and run twice in all.
  expect(ended.jobs[0]).toMatchObject({ attempt: 1, exitCode: 0 });
  expect(ledger()).toHaveLength(2);
}, 120_000);

it('refuses to run an attempt again while the worker that runs it is registered, though its lock expired', async () => {
  // A lock that expires while the worker is stopped, a registration that does not.
  const settings = { CHAINR_LOCK_DURATION: '1s', CHAINR_HEARTBEAT_INTERVAL: '10s' };
  const first = await startWorker(settings);
  const go = join(dir, 'go-paused');
  const run = await submit(api.url, waitingJob(go));
  await until(() => ledger().length === 1, 'the first execution', 30_000);
  const second = await startWorker(settings);

  first.child.kill('SIGSTOP');
  try {
    // The lock expires; the second worker's stalled-job check re-delivers the attempt to itself.
    await until(
      () => second.output().includes('left to that worker'),
      'the re-delivery left to its owner',
      20_000,
    );
  } finally {
    first.child.kill('SIGCONT');
  }
  writeFileSync(go, '');
  const ended = await waitForEnd(api.url, run.metadata.uid, 30_000);
  expect(statuses(ended)).toEqual({ long: 'SUCCESSFUL' });
  expect(ledger().map((l) => l.pid)).toEqual([first.child.pid]);
  expect(second.output()).not.toContain('running it again');
}, 120_000);
