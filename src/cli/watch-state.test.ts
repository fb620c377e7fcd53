import { describe, expect, it } from 'vitest';
import type { Run, TransitionEvent } from '../api/wire.ts';
import type { Pipeline } from '../core/types.ts';
import { applyTransition, diffStates, fromRun, type RunState } from './watch-state.ts';

const UID = '01900000-0000-7000-8000-000000000001';
const t = (ms: number) => new Date(Date.UTC(2024, 0, 1, 0, 0, 0, ms)).toISOString();
const T0 = Date.parse(t(0));

function run(overrides: Partial<Run> = {}): Run {
  return {
    kind: 'Run',
    metadata: { uid: UID, selfLink: `/api/runs/${UID}`, name: 'nightly' },
    status: 'RUNNING',
    createdAt: t(0),
    startedAt: t(10),
    jobs: [
      { name: 'first', status: 'SUCCESSFUL', startedAt: t(10), finishedAt: t(500), exitCode: 0 },
      { name: 'second', status: 'RUNNING', startedAt: t(20) },
      { name: 'third', status: 'PENDING' },
    ],
    ...overrides,
  };
}

const event = (e: Partial<TransitionEvent> & { time: number }): TransitionEvent => ({
  uid: UID,
  status: 'RUNNING',
  ...e,
});

const statusOf = (s: RunState, job: string) => s.jobs.find((j) => j.name === job)?.status;

describe('fromRun', () => {
  it('takes the run and its jobs with times in ms', () => {
    const state = fromRun(run());
    expect(state).toMatchObject({
      uid: UID,
      name: 'nightly',
      status: 'RUNNING',
      startedAt: T0 + 10,
    });
    expect(state.jobs[0]).toMatchObject({
      startedAt: T0 + 10,
      finishedAt: T0 + 500,
      changedAt: T0 + 500,
    });
    expect(state.jobs[2]).toMatchObject({ status: 'PENDING', changedAt: T0 });
  });
});

describe('applyTransition', () => {
  it('applies newer job transitions with their times', () => {
    let state = fromRun(run());
    state = applyTransition(state, event({ job: 'third', status: 'RUNNING', time: T0 + 600 }));
    expect(state.jobs[2]).toMatchObject({ status: 'RUNNING', startedAt: T0 + 600 });
    state = applyTransition(
      state,
      event({ job: 'third', status: 'FAILED', reason: 'exit code 2', time: T0 + 900 }),
    );
    expect(state.jobs[2]).toMatchObject({
      status: 'FAILED',
      finishedAt: T0 + 900,
      reason: 'exit code 2',
    });
  });

  it('ignores transitions the snapshot already reflects (the server replays them after it)', () => {
    const state = fromRun(run());
    expect(applyTransition(state, event({ job: 'first', status: 'RUNNING', time: T0 + 10 }))).toBe(
      state,
    );
    expect(applyTransition(state, event({ job: 'second', status: 'RUNNING', time: T0 + 20 }))).toBe(
      state,
    );
    expect(applyTransition(state, event({ status: 'RUNNING', time: T0 + 10 }))).toBe(state);
  });

  it('moves forward within one millisecond, never back', () => {
    let state = fromRun(run({ jobs: [{ name: 'fast', status: 'PENDING' }], startedAt: undefined }));
    state = applyTransition(state, event({ job: 'fast', status: 'RUNNING', time: T0 + 5 }));
    state = applyTransition(state, event({ job: 'fast', status: 'SUCCESSFUL', time: T0 + 5 }));
    expect(statusOf(state, 'fast')).toBe('SUCCESSFUL');
    expect(applyTransition(state, event({ job: 'fast', status: 'RUNNING', time: T0 + 5 }))).toBe(
      state,
    );
  });

  it('lets a retried job start over', () => {
    let state = fromRun(run());
    state = applyTransition(state, event({ job: 'first', status: 'PENDING', time: T0 + 1000 }));
    expect(state.jobs[0]).toEqual({
      name: 'first',
      status: 'PENDING',
      changedAt: T0 + 1000,
      reason: undefined,
    });
  });

  it('follows the run itself and ignores other runs', () => {
    const state = fromRun(run());
    const ended = applyTransition(
      state,
      event({ status: 'FAILED', reason: 'job "x" failed', time: T0 + 2000 }),
    );
    expect(ended).toMatchObject({
      status: 'FAILED',
      finishedAt: T0 + 2000,
      reason: 'job "x" failed',
    });
    expect(applyTransition(state, event({ uid: 'other', status: 'FAILED', time: T0 + 3000 }))).toBe(
      state,
    );
  });

  it("adds a job the snapshot did not have: a forEach job's instance, after those before it", () => {
    const pipeline: Pipeline = {
      kind: 'Pipeline',
      jobs: {
        first: { image: 'busybox', run: 'true' },
        second: {
          image: 'busybox',
          run: 'true',
          forEach: '${{ jobs.first.outputs.files }}',
          dependsOn: [{ job: 'first' }],
        },
        third: { image: 'busybox', run: 'true' },
      },
    };
    let state = fromRun(run({ pipeline }));
    state = applyTransition(state, event({ job: 'second-0', status: 'PENDING', time: T0 + 600 }));
    state = applyTransition(state, event({ job: 'second-1', status: 'RUNNING', time: T0 + 700 }));
    state = applyTransition(state, event({ job: 'second-0', status: 'FAILED', time: T0 + 800 }));
    expect(state.jobs.map((j) => j.name)).toEqual([
      'first',
      'second',
      'second-0',
      'second-1',
      'third',
    ]);
    expect(state.jobs[2]).toMatchObject({ status: 'FAILED', finishedAt: T0 + 800 });
    expect(state.jobs[3]).toMatchObject({ status: 'RUNNING', startedAt: T0 + 700 });
    // Without the pipeline (a server that does not send it), such a job comes last.
    const plain = applyTransition(
      fromRun(run()),
      event({ job: 'x-0', status: 'RUNNING', time: T0 }),
    );
    expect(plain.jobs.map((j) => j.name)).toEqual(['first', 'second', 'third', 'x-0']);
  });
});

describe('diffStates', () => {
  it('from nothing: every job that is not PENDING, then the run', () => {
    expect(diffStates(undefined, fromRun(run()))).toEqual([
      { time: T0 + 10, status: 'RUNNING' },
      { time: T0 + 20, job: 'second', status: 'RUNNING' },
      { time: T0 + 500, job: 'first', status: 'SUCCESSFUL', durationMs: 490 },
    ]);
  });

  it('between states: what changed, with durations of what ended, in time order', () => {
    const before = fromRun(run());
    const after = fromRun(
      run({
        status: 'FAILED',
        reason: 'job "second" failed',
        finishedAt: t(900),
        jobs: [
          { name: 'first', status: 'SUCCESSFUL', startedAt: t(10), finishedAt: t(500) },
          {
            name: 'second',
            status: 'FAILED',
            startedAt: t(20),
            finishedAt: t(800),
            reason: 'exit code 1',
          },
          { name: 'third', status: 'SKIPPED', finishedAt: t(800), reason: 'dependency failed' },
        ],
      }),
    );
    expect(diffStates(before, after)).toEqual([
      { time: T0 + 800, job: 'second', status: 'FAILED', reason: 'exit code 1', durationMs: 780 },
      { time: T0 + 800, job: 'third', status: 'SKIPPED', reason: 'dependency failed' },
      { time: T0 + 900, status: 'FAILED', reason: 'job "second" failed', durationMs: 890 },
    ]);
    expect(diffStates(after, after)).toEqual([]);
  });
});
