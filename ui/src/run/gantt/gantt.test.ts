// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { ganttModel, tickLabel, timeTicks } from './gantt.ts';

const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + s * 1000).toISOString();

describe('ganttModel', () => {
  it('places each started job from the earliest start, open ones until now', () => {
    const now = Date.parse(at(10));
    const model = ganttModel(
      [
        { name: 'b', status: 'SUCCESSFUL', startedAt: at(2), finishedAt: at(5) },
        { name: 'a', status: 'SUCCESSFUL', startedAt: at(1), finishedAt: at(2) },
        { name: 'c', status: 'RUNNING', startedAt: at(5) },
        { name: 'd', status: 'SKIPPED', finishedAt: at(5) },
      ],
      now,
    );
    expect(model.origin).toBe(Date.parse(at(1)));
    expect(model.bars).toEqual([
      { name: 'a', status: 'SUCCESSFUL', start: 0, end: 1000, open: false },
      { name: 'b', status: 'SUCCESSFUL', start: 1000, end: 4000, open: false },
      { name: 'c', status: 'RUNNING', start: 4000, end: 9000, open: true },
    ]);
    expect(model.span).toBe(9000);
    expect(model.notStarted.map((j) => j.name)).toEqual(['d']);
  });

  it('has nothing to draw before any job started', () => {
    const model = ganttModel([{ name: 'a', status: 'PENDING' }], 0);
    expect(model.bars).toEqual([]);
    expect(model.span).toBe(1000);
  });
});

describe('time ticks', () => {
  it('picks a round step that gives at most the number of ticks asked', () => {
    expect(timeTicks(9000)).toEqual([0, 2000, 4000, 6000, 8000]);
    expect(timeTicks(1000)).toHaveLength(5);
    const long = timeTicks(3 * 3600_000);
    expect(long.length).toBeLessThanOrEqual(9);
    expect(long[1]).toBe(1_800_000);
  });
  it('labels ticks briefly', () => {
    expect([0, 500, 1500, 30_000, 90_000, 120_000, 3600_000, 5400_000].map(tickLabel)).toEqual([
      '0',
      '500ms',
      '1.5s',
      '30s',
      '1m30s',
      '2m',
      '1h',
      '1h30m',
    ]);
  });
});
