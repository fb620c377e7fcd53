/** recycle repairs what a crash can leave behind, and applies retention — against a real Redis. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../src/core/plan.ts';
import type { Pipeline } from '../src/core/types.ts';
import type { Recycler } from '../src/services/recycle/service.ts';
import { attemptId, makeKeys } from '../src/store/keys.ts';
import { ReadyQueues } from '../src/store/queue.ts';
import { RunStore } from '../src/store/runs.ts';
import { Transitions } from '../src/store/scripts.ts';
import { getRun, statuses, waitForEnd } from './fixtures/api.ts';
import { startInProcess, type Harness } from './fixtures/in-process.ts';
import { testRecycler } from './fixtures/recycler.ts';
import { startRedis, type TestRedis } from './fixtures/redis-server.ts';

let server: TestRedis;
let redis: Redis;
let api: Harness;
let runs: RunStore;
let transitions: Transitions;
let recycler: Recycler;

const job = (run: string, dependsOn?: string[]) => ({
  image: 'busybox',
  run,
  ...(dependsOn && { dependsOn: dependsOn.map((j) => ({ job: j })) }),
});
const chain: Pipeline = {
  kind: 'Pipeline',
  jobs: { a: job('true'), b: job('true', ['a']), c: job('true', ['b']) },
};

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  api = await startInProcess(server.url);
  const keys = makeKeys(api.prefix);
  runs = new RunStore(redis, keys, 10_000);
  transitions = new Transitions(redis, keys, 10_000);
  recycler = testRecycler(redis, server.url, keys, { retentionMs: 60_000 });
});
afterAll(async () => {
  await recycler.close();
  await api.stop();
  await server.stop();
});

/** A run created as sched would, but whose enqueue was lost (sched died right after creating it). */
async function createWithoutEnqueue(pipeline: Pipeline, now = Date.now()): Promise<string> {
  return (await runs.create(planRun(pipeline, {}, { defaultExecutor: 'local' }), now)).uid;
}

describe('recycle', () => {
  it('enqueues the roots of a run whose enqueue was lost, and the run completes', async () => {
    const uid = await createWithoutEnqueue(chain);
    await new Promise((r) => setTimeout(r, 300));
    expect((await getRun(api.url, uid)).status).toBe('PENDING');
    const report = await recycler.cycle();
    expect(report.requeued).toBeGreaterThanOrEqual(1);
    const run = await waitForEnd(api.url, uid);
    expect(statuses(run)).toEqual({ a: 'SUCCESSFUL', b: 'SUCCESSFUL', c: 'SUCCESSFUL' });
  });

  it('repairs a run whose dependent was never decided (a lost counter update)', async () => {
    const uid = await createWithoutEnqueue(chain);
    const key = makeKeys(api.prefix).run(uid);
    // Play a's attempt by hand, then undo b's counter update, as a crash between the two would.
    await transitions.startJob({ uid, job: 'a', attempt: 1 }, Date.now());
    await transitions.finishJob(
      { uid, job: 'a', attempt: 1 },
      { status: 'SUCCESSFUL', exitCode: 0, reason: '' },
      Date.now(),
    );
    await redis.hset(key, 'b.wait', 1, 'b.queued', 0, 'done', 0);
    const report = await recycler.cycle();
    expect(report.runsRepaired).toBe(1);
    const run = await waitForEnd(api.url, uid);
    expect(statuses(run)).toEqual({ a: 'SUCCESSFUL', b: 'SUCCESSFUL', c: 'SUCCESSFUL' });
    // A second cycle finds nothing left to repair.
    expect(await recycler.cycle()).toMatchObject({ runsRepaired: 0, requeued: 0 });
  });

  it('runs again an attempt left RUNNING with no queue entry (its worker and job are gone)', async () => {
    const uid = await createWithoutEnqueue({ kind: 'Pipeline', jobs: { only: job('echo again') } });
    await transitions.startJob({ uid, job: 'only', attempt: 1 }, Date.now());
    expect((await getRun(api.url, uid)).status).toBe('RUNNING');
    expect((await recycler.cycle()).requeued).toBe(1);
    const run = await waitForEnd(api.url, uid);
    expect(run.status).toBe('SUCCESSFUL');
  });

  it('leaves a job carried on in a slot alone while its carrier is queued, and runs it again once the carrier is gone', async () => {
    const uid = await createWithoutEnqueue(chain);
    const a = { uid, job: 'a', attempt: 1 };
    await transitions.startJob(a, Date.now());
    await transitions.finishJob(a, { status: 'SUCCESSFUL', exitCode: 0, reason: '' }, Date.now(), {
      executor: 'local',
      holds: a,
    });
    // b is RUNNING in a's slot. a's queue entry is there (delayed: no worker takes it here).
    const queues = new ReadyQueues(redis, makeKeys(api.prefix));
    try {
      await queues.enqueue(uid, [{ job: 'a', attempt: 1, executor: 'local' }], 600_000);
      expect(await recycler.cycle()).toMatchObject({ runsRepaired: 0, requeued: 0 });
      expect(statuses(await getRun(api.url, uid))).toMatchObject({ b: 'RUNNING' });
      // The carrier leaves the queue for good (its worker died and BullMQ gave it up).
      await queues.queue('local').remove(attemptId(uid, 'a', 1));
    } finally {
      await queues.close();
    }
    expect((await recycler.cycle()).requeued).toBe(1);
    const run = await waitForEnd(api.url, uid);
    expect(statuses(run)).toEqual({ a: 'SUCCESSFUL', b: 'SUCCESSFUL', c: 'SUCCESSFUL' });
  });

  it('leaves a healthy running run alone', async () => {
    const res = await fetch(`${api.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'Pipeline', jobs: { slow: job('sleep 1') } }),
    });
    const uid = ((await res.json()) as { metadata: { uid: string } }).metadata.uid;
    await new Promise((r) => setTimeout(r, 300));
    expect(await recycler.cycle()).toMatchObject({ runsRepaired: 0, requeued: 0 });
    expect((await waitForEnd(api.url, uid)).status).toBe('SUCCESSFUL');
  });

  it('deletes ended runs past retention with their logs and index entries, keeping the rest', async () => {
    const submit = async (pipeline: Pipeline) => {
      const res = await fetch(`${api.url}/api/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(pipeline),
      });
      return waitForEnd(
        api.url,
        ((await res.json()) as { metadata: { uid: string } }).metadata.uid,
      );
    };
    const old = await submit({
      kind: 'Pipeline',
      metadata: { name: 'old', labels: { k: 'v' } },
      jobs: { a: job('echo x') },
    });
    const oldUid = old.metadata.uid;
    await new Promise((r) => setTimeout(r, 1200));
    const recent = await submit({ kind: 'Pipeline', jobs: { a: job('true') } });
    const keys = makeKeys(api.prefix);
    expect(await redis.exists(keys.log(oldUid, 'a'), keys.runSpec(oldUid))).toBe(2);
    const shortRetention = testRecycler(redis, server.url, keys, { retentionMs: 1000 });
    try {
      const report = await shortRetention.cycle(Date.parse(recent.finishedAt ?? '') + 500);
      expect(report.deleted).toBeGreaterThanOrEqual(1);
    } finally {
      await shortRetention.close();
    }
    expect((await fetch(`${api.url}/api/runs/${oldUid}`)).status).toBe(404);
    expect(await redis.exists(keys.log(oldUid, 'a'), keys.runSpec(oldUid))).toBe(0);
    expect(await redis.zscore(keys.runsByName('old'), oldUid)).toBeNull();
    expect(await redis.zscore(keys.runsByLabel('k', 'v'), oldUid)).toBeNull();
    expect(await redis.zscore(keys.runs, oldUid)).toBeNull();
    expect((await fetch(`${api.url}/api/runs/${recent.metadata.uid}`)).status).toBe(200);
  });
});
