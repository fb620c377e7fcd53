import { describe, expect, it } from 'vitest';
import { stripAnsi } from './format.ts';
import {
  exitCodeOf,
  renderLive,
  renderSummary,
  renderTransition,
  renderWatchStart,
} from './render-watch.ts';
import type { Pipeline } from '../core/types.ts';
import type { JobState, RunState } from './watch-state.ts';

const T0 = Date.UTC(2024, 0, 1);
const UID = '01900000-0000-7000-8000-000000000001';

function state(jobs: Partial<JobState>[], overrides: Partial<RunState> = {}): RunState {
  return {
    uid: UID,
    status: 'RUNNING',
    createdAt: T0,
    startedAt: T0,
    changedAt: T0,
    jobs: jobs.map((j, i) => ({ name: `job-${i}`, status: 'PENDING', changedAt: T0, ...j })),
    ...overrides,
  };
}

const live = { now: T0 + 3200, frame: 2, color: false, columns: 80, rows: 24 };

describe('renderLive', () => {
  it('draws one line per job: symbol (a spinner while running), name, status, duration, reason', () => {
    const lines = renderLive(
      state([
        { name: 'extract', status: 'SUCCESSFUL', startedAt: T0, finishedAt: T0 + 1000 },
        { name: 'load', status: 'RUNNING', startedAt: T0 + 1000 },
        { name: 'report', status: 'SKIPPED', reason: 'load failed', finishedAt: T0 + 1100 },
        { name: 'restore' },
      ]),
      live,
    );
    expect(lines).toEqual([
      `⠹  run ${UID}  RUNNING  3.2s`,
      ' ✓  extract  SUCCESSFUL  1.0s',
      ' ⠹  load     RUNNING     2.2s',
      ' ↷  report   SKIPPED           load failed',
      ' ·  restore  PENDING',
    ]);
  });

  it('advances the spinner with the frame and names the pipeline', () => {
    const s = state([{ status: 'RUNNING', startedAt: T0 }], { name: 'nightly' });
    expect(renderLive(s, { ...live, frame: 0 })[1]).toContain('⠋');
    expect(renderLive(s, { ...live, frame: 1 })[1]).toContain('⠙');
    expect(renderLive(s, live)[0]).toContain(`nightly run ${UID}`);
  });

  it('colours statuses when asked, and only then', () => {
    const s = state([{ status: 'FAILED', startedAt: T0, finishedAt: T0 + 10 }]);
    expect(renderLive(s, { ...live, color: true })[1]).toContain('\x1b[31mFAILED\x1b[39m');
    expect(renderLive(s, live).join('')).not.toContain('\x1b[');
  });

  it('cuts lines to the terminal width', () => {
    const s = state([{ name: 'x', status: 'FAILED', reason: 'r'.repeat(200) }]);
    for (const line of renderLive(s, { ...live, columns: 40 })) {
      expect([...stripAnsi(line)].length).toBeLessThanOrEqual(39);
    }
  });

  it('keeps within the screen: running and failed jobs first, the rest summed up', () => {
    const jobs: Partial<JobState>[] = Array.from({ length: 50 }, () => ({ status: 'PENDING' }));
    jobs[30] = { status: 'RUNNING', startedAt: T0 };
    jobs[40] = { status: 'FAILED', startedAt: T0, finishedAt: T0 + 5 };
    jobs[1] = { status: 'SUCCESSFUL', startedAt: T0, finishedAt: T0 + 5 };
    const lines = renderLive(state(jobs), { ...live, rows: 8, note: 'reconnecting…' });
    expect(lines.length).toBeLessThanOrEqual(7);
    expect(lines.slice(1, 5).map((l) => l.split(/\s+/)[2])).toEqual([
      'job-0',
      'job-1',
      'job-30',
      'job-40',
    ]);
    expect(lines.some((l) => l.includes('job-30'))).toBe(true);
    expect(lines.some((l) => l.includes('job-40'))).toBe(true);
    expect(lines.at(-2)).toBe('   … 46 more: 46 pending');
    expect(lines.at(-1)).toBe('reconnecting…');
  });

  it('shows every job when they just fit', () => {
    const jobs = Array.from({ length: 22 }, () => ({}));
    const lines = renderLive(state(jobs), live);
    expect(lines).toHaveLength(23);
    expect(lines.join('\n')).not.toContain('more:');
  });
});

describe('renderLive with fan-outs', () => {
  /** `prepare`, then `build`: a matrix of `n` instances `build-01`..., then `report`. */
  function matrixRun(statuses: JobState['status'][]): RunState {
    const names = statuses.map((_, i) => `build-${String(i + 1).padStart(2, '0')}`);
    const pipeline: Pipeline = {
      kind: 'Pipeline',
      jobs: {
        prepare: { image: 'busybox', run: 'true' },
        ...Object.fromEntries(
          names.map((name) => [name, { image: 'busybox', run: 'true', matrixOf: 'build' }]),
        ),
        report: { image: 'busybox', run: 'true' },
      },
    };
    return state(
      [
        { name: 'prepare', status: 'SUCCESSFUL', startedAt: T0, finishedAt: T0 + 200 },
        ...statuses.map((status, i) => ({
          name: names[i],
          status,
          ...(status !== 'PENDING' && { startedAt: T0 + 200 }),
          ...(status === 'FAILED' && { finishedAt: T0 + 1200, reason: 'exit code 1' }),
          ...(status === 'SUCCESSFUL' && { finishedAt: T0 + 700 }),
        })),
        { name: 'report' },
      ],
      { pipeline },
    );
  }

  const twenty: JobState['status'][] = [
    ...Array<'SUCCESSFUL'>(12).fill('SUCCESSFUL'),
    'FAILED',
    ...Array<'RUNNING'>(5).fill('RUNNING'),
    'FAILED',
    'FAILED',
  ];

  it('draws a group of more than four instances as one line with counts, and each failed one', () => {
    expect(renderLive(matrixRun(twenty), live)).toEqual([
      `⠹  run ${UID}  RUNNING  3.2s`,
      ' ✓  prepare     SUCCESSFUL  200ms',
      ' ⠹  build ×20   RUNNING     3.0s   12 ✓ 3 ✗ 5 running',
      ' ✗    build-13  FAILED      1.0s   exit code 1',
      ' ✗    build-19  FAILED      1.0s   exit code 1',
      ' ✗    build-20  FAILED      1.0s   exit code 1',
      ' ·  report      PENDING',
    ]);
  });

  it('draws the instances of a group of four one by one', () => {
    const lines = renderLive(matrixRun(['SUCCESSFUL', 'RUNNING', 'FAILED', 'PENDING']), live);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[2])).toEqual([
      'prepare',
      'build-01',
      'build-02',
      'build-03',
      'build-04',
      'report',
    ]);
  });

  it("draws a forEach job and its instances as the group's line, where the job is", () => {
    const pipeline: Pipeline = {
      kind: 'Pipeline',
      jobs: {
        list: { image: 'busybox', run: 'true' },
        convert: { image: 'busybox', run: 'true', forEach: '${{ jobs.list.outputs.files }}' },
      },
    };
    const items = Array.from({ length: 6 }, (_, i) => ({
      name: `convert-${i}`,
      status: 'SUCCESSFUL' as const,
      startedAt: T0 + 100,
      finishedAt: T0 + 300 + i * 100,
    }));
    const s = state(
      [
        { name: 'list', status: 'SUCCESSFUL', startedAt: T0, finishedAt: T0 + 100 },
        { name: 'convert', status: 'SUCCESSFUL', startedAt: T0 + 100, finishedAt: T0 + 800 },
        ...items,
      ],
      { pipeline },
    );
    expect(renderLive(s, live).slice(1)).toEqual([
      ' ✓  list        SUCCESSFUL  100ms',
      ' ✓  convert ×6  SUCCESSFUL  700ms  6 ✓',
    ]);
  });

  it('counts the jobs a group stands for among those not shown', () => {
    const lines = renderLive(matrixRun(twenty), { ...live, rows: 6 });
    expect(lines).toHaveLength(5);
    expect(lines.slice(1, 4).map((l) => l.trim().split(/\s+/).slice(1, 3).join(' '))).toEqual([
      'build ×20',
      'build-13 FAILED',
      'build-19 FAILED',
    ]);
    // build-20 (failed), prepare and report
    expect(lines.at(-1)).toBe('   … 3 more: 1 successful, 1 failed, 1 pending');
  });
});

describe('plain lines', () => {
  it('one timestamped line per transition, with duration and reason', () => {
    expect(renderTransition({ time: T0, job: 'load', status: 'RUNNING' })).toBe(
      '2024-01-01T00:00:00.000Z job load RUNNING',
    );
    expect(
      renderTransition({
        time: T0 + 1500,
        job: 'load',
        status: 'FAILED',
        reason: 'exit code 1',
        durationMs: 1500,
      }),
    ).toBe('2024-01-01T00:00:01.500Z job load FAILED after 1.5s: exit code 1');
    expect(renderTransition({ time: T0, status: 'SUCCESSFUL', durationMs: 61_000 })).toBe(
      '2024-01-01T00:00:00.000Z run SUCCESSFUL after 1m01s',
    );
  });

  it('starts with the run, its job count and its status', () => {
    expect(renderWatchStart(state([{}, {}], { name: 'etl' }), T0)).toBe(
      `2024-01-01T00:00:00.000Z watching run ${UID} (etl): 2 jobs, RUNNING`,
    );
  });
});

describe('renderSummary and exitCodeOf', () => {
  it('sums a failed run up with its failed jobs and where their logs are', () => {
    const s = state(
      [
        { name: 'a', status: 'SUCCESSFUL' },
        { name: 'b', status: 'FAILED', reason: 'exit code 3' },
        { name: 'c', status: 'FAILED', exitCode: 4 },
      ],
      { status: 'FAILED', finishedAt: T0 + 2500, reason: 'jobs "b", "c" failed' },
    );
    expect(renderSummary(s, false)).toEqual([
      `✗ run ${UID} FAILED in 2.5s: 1 successful, 2 failed`,
      '  reason: jobs "b", "c" failed',
      '  ✗ b: exit code 3',
      '  ✗ c: exit code 4',
      `  logs: chainr logs ${UID} b`,
    ]);
    expect(exitCodeOf(s)).toBe(1);
  });

  it('answers 0 for SUCCESSFUL, 2 for CANCELED, and refuses a run still going', () => {
    const done = state([{ status: 'SUCCESSFUL' }], { status: 'SUCCESSFUL', finishedAt: T0 + 100 });
    expect(renderSummary(done, false)).toEqual([`✓ run ${UID} SUCCESSFUL in 100ms: 1 successful`]);
    expect(exitCodeOf(done)).toBe(0);
    expect(exitCodeOf(state([], { status: 'CANCELED' }))).toBe(2);
    expect(() => exitCodeOf(state([]))).toThrow(/not ended/);
  });
});
