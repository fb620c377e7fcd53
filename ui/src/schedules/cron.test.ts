// @vitest-environment node
import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../../src/api/wire.ts';
import { cronProblem } from './cron.ts';
import { scheduleRunsHref } from './SchedulesPage.tsx';

describe('cronProblem', () => {
  it('accepts five- and six-field expressions and the shorthands', () => {
    for (const ok of [
      '0 3 * * *',
      '*/15 9-17 * * MON-FRI',
      '0 0 3 * * *',
      '@daily',
      ' 5 4 * * sun ',
    ])
      expect(cronProblem(ok), ok).toBeUndefined();
  });
  it('says what is wrong', () => {
    expect(cronProblem('')).toMatch(/required/);
    expect(cronProblem('* * *')).toMatch(/expected 5 fields/);
    expect(cronProblem('@sometimes')).toMatch(/unknown shorthand/);
    expect(cronProblem('0 3 * * $')).toMatch(/"\$" is not a cron field/);
  });
});

it('links a schedule to its runs through its label selector', () => {
  const schedule = {
    runs: '/api/runs?selector=chainr.io/schedule=01a2-b3',
  } as Partial<Schedule> as Schedule;
  expect(scheduleRunsHref(schedule)).toBe('/?selector=chainr.io%2Fschedule%3D01a2-b3');
  expect(scheduleRunsHref({ ...schedule, runs: undefined })).toBeUndefined();
});
