import { describe, expect, it } from 'vitest';
import { stripAnsi } from './format.ts';
import {
  exitCodeOf,
  renderLive,
  renderSummary,
  renderTransition,
  renderWatchStart,
} from './render-watch.ts';
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
