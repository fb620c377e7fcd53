import { describe, expect, it } from 'vitest';
import { buildNotification, eventOf, parseStreamEntry, summarize } from './notification.ts';

describe('parseStreamEntry', () => {
  it('reads the fields emit writes, attempt as a number', () => {
    const fields = [
      'uid',
      'u1',
      'status',
      'PENDING',
      'time',
      '1700000000000',
      'job',
      'build',
      'attempt',
      '2',
      'reason',
      'attempt 1 failed (exit code 1); retrying',
    ];
    expect(parseStreamEntry('1-0', fields)).toEqual({
      id: '1-0',
      uid: 'u1',
      job: 'build',
      attempt: 2,
      status: 'PENDING',
      reason: 'attempt 1 failed (exit code 1); retrying',
      time: 1700000000000,
    });
  });

  it('leaves out what a run event does not have', () => {
    expect(parseStreamEntry('2-0', ['uid', 'u1', 'status', 'RUNNING', 'time', '5'])).toEqual({
      id: '2-0',
      uid: 'u1',
      status: 'RUNNING',
      time: 5,
    });
  });
});

describe('eventOf', () => {
  const run = (status: string) =>
    eventOf(parseStreamEntry('1-0', ['uid', 'u', 'status', status, 'time', '1']));
  const job = (status: string, attempt = '1') =>
    eventOf(
      parseStreamEntry('1-0', [
        'uid',
        'u',
        'status',
        status,
        'time',
        '1',
        'job',
        'j',
        'attempt',
        attempt,
      ]),
    );

  it.each([
    ['PENDING', undefined],
    ['RUNNING', 'start'],
    ['SUCCESSFUL', 'success'],
    ['FAILED', 'failure'],
    ['CANCELED', 'canceled'],
  ])('run %s → %s', (status, event) => expect(run(status)).toBe(event));

  it.each([
    ['RUNNING', 'job-start'],
    ['SUCCESSFUL', 'job-success'],
    ['FAILED', 'job-failure'],
    ['SKIPPED', 'job-skipped'],
    ['CANCELED', 'job-canceled'],
  ])('job %s → %s', (status, event) => expect(job(status)).toBe(event));

  it('a job PENDING again at a later attempt is a retry; at attempt 1 it is nothing', () => {
    expect(job('PENDING', '2')).toBe('job-retry');
    expect(job('PENDING', '1')).toBeUndefined();
  });
});

describe('summarize', () => {
  it('names the pipeline, the job and the reason', () => {
    expect(summarize('failure', { uid: 'u', name: 'etl' }, undefined, 'job "load" failed')).toBe(
      'Run of etl failed: job "load" failed',
    );
    expect(summarize('job-retry', { uid: 'u', name: 'etl' }, { name: 'load', attempt: 2 })).toBe(
      'Job "load" of etl will be retried (attempt 2)',
    );
    expect(summarize('success', { uid: 'u1' })).toBe('Run u1 succeeded');
    expect(summarize('job-skipped', { uid: 'u1' }, { name: 'x' })).toBe(
      'Job "x" of run u1 was skipped',
    );
  });
});

describe('buildNotification', () => {
  const event = parseStreamEntry('9-1', [
    'uid',
    'u 1',
    'status',
    'FAILED',
    'time',
    '1700000000000',
    'reason',
    'job "a b" failed',
  ]);

  it('links the run in the UI and the API, and lists the failed jobs of a failure', () => {
    const n = buildNotification(
      'failure',
      event,
      {
        name: 'etl',
        labels: { team: 'data' },
        failedJobs: [{ name: 'a b', reason: 'exit code 1' }],
      },
      'https://chainr.example.com',
    );
    expect(n).toEqual({
      event: 'failure',
      eventId: '9-1',
      time: '2023-11-14T22:13:20.000Z',
      status: 'FAILED',
      reason: 'job "a b" failed',
      summary: 'Run of etl failed: job "a b" failed',
      run: {
        uid: 'u 1',
        name: 'etl',
        labels: { team: 'data' },
        link: 'https://chainr.example.com/runs/u%201',
        selfLink: '/api/runs/u 1',
      },
      failedJobs: [{ name: 'a b', reason: 'exit code 1' }],
    });
  });

  it('links a job event to the job', () => {
    const e = parseStreamEntry('9-2', [
      'uid',
      'u',
      'status',
      'RUNNING',
      'time',
      '1',
      'job',
      'a/b',
      'attempt',
      '1',
    ]);
    const n = buildNotification('job-start', e, { labels: {} }, 'http://x');
    expect(n.job).toEqual({ name: 'a/b', attempt: 1, link: 'http://x/runs/u/jobs/a%2Fb' });
    expect(n.failedJobs).toBeUndefined();
  });
});
