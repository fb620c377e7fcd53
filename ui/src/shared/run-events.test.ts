// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { applyEvents, applyRunEvent, jobCounts, mergeRun } from './run-events.ts';
import type { Run } from '../../../src/api/wire.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function run(uid: string): Run {
  return {
    kind: 'Run',
    metadata: { uid, selfLink: `/api/runs/${uid}` },
    status: 'PENDING',
    jobs: [
      { name: 'a', status: 'PENDING' },
      { name: 'b', status: 'PENDING' },
    ],
  };
}

describe('applyRunEvent', () => {
  it('starts the run with its first job and times each job', () => {
    let r = applyRunEvent(run('u'), { uid: 'u', job: 'a', status: 'RUNNING', time: T0 });
    expect(r.status).toBe('RUNNING');
    expect(r.startedAt).toBe(new Date(T0).toISOString());
    expect(r.jobs[0]).toMatchObject({ status: 'RUNNING', startedAt: new Date(T0).toISOString() });
    r = applyRunEvent(r, {
      uid: 'u',
      job: 'a',
      status: 'FAILED',
      reason: 'exit 1',
      time: T0 + 500,
    });
    expect(r.jobs[0]).toMatchObject({
      status: 'FAILED',
      reason: 'exit 1',
      finishedAt: new Date(T0 + 500).toISOString(),
    });
    r = applyRunEvent(r, { uid: 'u', status: 'FAILED', reason: 'job a failed', time: T0 + 600 });
    expect(r).toMatchObject({
      status: 'FAILED',
      reason: 'job a failed',
      finishedAt: new Date(T0 + 600).toISOString(),
    });
  });

  it('clears the end of a job that runs again (a retry)', () => {
    let r = applyRunEvent(run('u'), { uid: 'u', job: 'a', status: 'FAILED', time: T0 });
    r = applyRunEvent(r, { uid: 'u', job: 'a', status: 'RUNNING', time: T0 + 10 });
    expect(r.jobs[0]?.finishedAt).toBeUndefined();
    expect(r.jobs[0]?.status).toBe('RUNNING');
  });

  it('ignores events about jobs the run does not have, and keeps untouched jobs as they were', () => {
    const before = run('u');
    expect(applyRunEvent(before, { uid: 'u', job: 'zzz', status: 'RUNNING', time: T0 })).toBe(
      before,
    );
    const after = applyRunEvent(before, { uid: 'u', job: 'a', status: 'RUNNING', time: T0 });
    expect(after.jobs[1]).toBe(before.jobs[1]);
  });
});

describe('applyEvents', () => {
  it('touches only the runs named, and reports unknown runs and run transitions', () => {
    const runs = [run('x'), run('y')];
    const update = applyEvents(runs, [
      { uid: 'y', job: 'b', status: 'RUNNING', time: T0 },
      { uid: 'z', status: 'PENDING', time: T0 },
    ]);
    expect(update.runs[0]).toBe(runs[0]);
    expect(update.runs[1]?.jobs[1]?.status).toBe('RUNNING');
    expect(update.unknown).toBe(true);
    expect(update.runTransitions).toBe(true);
    expect(applyEvents(runs, [{ uid: 'x', job: 'a', status: 'RUNNING', time: T0 }])).toMatchObject({
      unknown: false,
      runTransitions: false,
    });
  });
});

it('counts jobs by status', () => {
  const counts = jobCounts([
    { name: 'a', status: 'SUCCESSFUL' },
    { name: 'b', status: 'SUCCESSFUL' },
    { name: 'c', status: 'SKIPPED' },
  ]);
  expect(counts).toEqual({
    PENDING: 0,
    RUNNING: 0,
    SUCCESSFUL: 2,
    FAILED: 0,
    SKIPPED: 1,
    CANCELED: 0,
  });
});

describe('mergeRun', () => {
  it('keeps unchanged jobs and the pipeline, takes the changed ones', () => {
    const current: Run = { ...run('u'), pipeline: { kind: 'Pipeline', jobs: {} } };
    const fresh: Run = {
      ...run('u'),
      status: 'RUNNING',
      jobs: [
        { name: 'a', status: 'PENDING' },
        { name: 'b', status: 'RUNNING', startedAt: new Date(T0).toISOString() },
      ],
    };
    const merged = mergeRun(current, fresh);
    expect(merged.status).toBe('RUNNING');
    expect(merged.pipeline).toBe(current.pipeline);
    expect(merged.jobs[0]).toBe(current.jobs[0]);
    expect(merged.jobs[1]).toBe(fresh.jobs[1]);
  });
});
