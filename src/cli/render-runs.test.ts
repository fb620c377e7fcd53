import { describe, expect, it } from 'vitest';
import type { Run } from '../api/wire.ts';
import { renderRunDetail, renderRunTable } from './render-runs.ts';

const NOW = Date.UTC(2024, 0, 1, 1, 0, 0);
const at = (secondsBefore: number) => new Date(NOW - secondsBefore * 1000).toISOString();

const failed: Run = {
  kind: 'Run',
  metadata: {
    uid: 'uid-1',
    selfLink: '/api/runs/uid-1',
    name: 'nightly',
    labels: { app: 'etl', tier: 'prod' },
  },
  params: { date: '2024-01-01' },
  status: 'FAILED',
  reason: 'job "load" failed',
  createdAt: at(300),
  startedAt: at(299),
  finishedAt: at(290),
  jobs: [
    {
      name: 'extract',
      status: 'SUCCESSFUL',
      executor: 'local',
      attempt: 1,
      startedAt: at(299),
      finishedAt: at(295),
      exitCode: 0,
    },
    {
      name: 'load',
      status: 'FAILED',
      executor: 'kubernetes',
      attempt: 2,
      startedAt: at(294),
      finishedAt: at(290),
      exitCode: 1,
      reason: 'exit code 1',
    },
    {
      name: 'report',
      status: 'SKIPPED',
      executor: 'kubernetes',
      attempt: 1,
      reason: 'dependency "load" failed',
    },
  ],
};

const running: Run = {
  kind: 'Run',
  metadata: { uid: 'uid-2', selfLink: '/api/runs/uid-2' },
  status: 'RUNNING',
  createdAt: at(65),
  startedAt: at(64),
  jobs: [{ name: 'only', status: 'RUNNING', startedAt: at(64) }],
};

describe('renderRunTable', () => {
  it('is a table with names and labels when some run has them', () => {
    expect(renderRunTable([running, failed], NOW, false)).toEqual([
      'UID    NAME     STATUS   JOBS            AGE  DURATION  LABELS',
      'uid-2           RUNNING  0/1             1m   1m04s',
      'uid-1  nightly  FAILED   3/3 (1 failed)  5m   9.0s      app=etl,tier=prod',
    ]);
  });

  it('leaves empty columns out, and says when there is nothing', () => {
    expect(renderRunTable([running], NOW, false)[0]).toBe('UID    STATUS   JOBS  AGE  DURATION');
    expect(renderRunTable([], NOW, false)).toEqual(['No runs.']);
  });
});

describe('renderRunDetail', () => {
  it('describes the run, then its jobs with executors, attempts, durations, exit codes and reasons', () => {
    expect(renderRunDetail(failed, NOW, false)).toEqual([
      'Run:       uid-1',
      'Name:      nightly',
      'Labels:    app=etl,tier=prod',
      'Params:    date=2024-01-01',
      'Status:    FAILED',
      'Reason:    job "load" failed',
      `Created:   ${at(300)} (5m ago)`,
      `Started:   ${at(299)} (4m ago)`,
      `Finished:  ${at(290)} (4m ago)`,
      'Duration:  9.0s',
      'Jobs:      1 successful, 1 failed, 1 skipped',
      '',
      '   JOB      STATUS      EXECUTOR    ATTEMPT  DURATION  EXIT  REASON',
      '✓  extract  SUCCESSFUL  local       1        4.0s      0',
      '✗  load     FAILED      kubernetes  2        4.0s      1     exit code 1',
      '↷  report   SKIPPED     kubernetes  1                        dependency "load" failed',
    ]);
  });

  it('shows a running run with dashes for what has not happened', () => {
    const lines = renderRunDetail(running, NOW, false);
    expect(lines).toContain('Finished:  —');
    expect(lines).toContain('Duration:  1m04s');
  });
});
