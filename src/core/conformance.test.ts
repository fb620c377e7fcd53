import { describe, expect, it } from 'vitest';
import { conformanceCases } from './conformance.fixture.ts';
import type { Outcome } from './simulate.ts';
import { simulate } from './simulate.ts';
import { pipeline } from './testing.fixture.ts';
import { validatePipeline } from './validate.ts';

/** The outcome of a job's command as the conformance cases use them. */
function commandOutcome(run: string): Outcome {
  const last = run.split(';').pop()?.trim() ?? '';
  if (last === 'false') return 'FAILED';
  const exit = /^exit (\d+)$/.exec(last);
  return exit && Number(exit[1]) !== 0 ? 'FAILED' : 'SUCCESSFUL';
}

describe('conformance cases', () => {
  it.each(conformanceCases)('$name', ({ pipeline: p, expect: expected }) => {
    expect(validatePipeline(p)).toEqual({ ok: true, pipeline: p });
    const outcome = (job: string): Outcome => commandOutcome(p.jobs[job]?.run ?? '');
    const run = simulate(p, outcome);
    expect(run.statuses).toEqual(expected.jobs);
    expect(run.status).toBe(expected.status);
    // and the same with jobs finishing as soon as they start, last ones first
    const other = simulate(p, outcome, (n) => n - 1);
    expect(other.statuses).toEqual(expected.jobs);
  });
  it('has every case of examples/conformance.json', () => {
    expect(conformanceCases).toHaveLength(12);
  });
  it('the command outcomes mirror sh -c', () => {
    expect(['exit 0', 'true', 'echo hi', 'echo a; exit 0'].map(commandOutcome)).toEqual(
      Array(4).fill('SUCCESSFUL'),
    );
    expect(['exit 1', 'exit 7', 'false', 'echo loading; exit 1'].map(commandOutcome)).toEqual(
      Array(4).fill('FAILED'),
    );
  });
});

describe('simulate', () => {
  it('runs the fallback of examples/fallback.yaml when load fails', () => {
    const p = pipeline({ extract: [], load: ['extract'], report: ['load'], restore: ['!load'] });
    const run = simulate(p, (job) => (job === 'load' ? 'FAILED' : 'SUCCESSFUL'));
    expect(run.statuses).toEqual({
      extract: 'SUCCESSFUL',
      load: 'FAILED',
      report: 'SKIPPED',
      restore: 'SUCCESSFUL',
    });
    expect(run.status).toBe('FAILED');
    expect(run.history[0]).toBe('PENDING');
    expect(run.history.slice(1, -1).every((s) => s === 'RUNNING')).toBe(true);
    expect(run.events.filter((e) => e.type === 'start').map((e) => e.job)).toEqual([
      'extract',
      'load',
      'restore',
    ]);
  });
  it('handles a job named like an Object.prototype member', () => {
    const p = pipeline({ constructor: [], 'has-own-property': ['constructor'] });
    const run = simulate(p, () => 'SUCCESSFUL');
    expect(run.statuses).toEqual({ constructor: 'SUCCESSFUL', 'has-own-property': 'SUCCESSFUL' });
  });
});
