import { describe, expect, it } from 'vitest';
import { DNS, errorList, errors, job, withJobs } from './testing.fixture.ts';
import { validatePipeline } from './validate.ts';

describe('validatePipeline: graph errors', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    [
      'unknown job with a close name',
      { first: job(), error: job({ dependsOn: [{ job: 'frist' }] }) },
      ['jobs.error.dependsOn[0].job: unknown job "frist" (did you mean "first"?)'],
    ],
    [
      'unknown job, nothing close',
      { first: job(), error: job({ dependsOn: [{ job: 'deploy' }] }) },
      ['jobs.error.dependsOn[0].job: unknown job "deploy"'],
    ],
    [
      'unknown short name is not guessed',
      { a: job(), b: job({ dependsOn: [{ job: 'c' }] }) },
      ['jobs.b.dependsOn[0].job: unknown job "c"'],
    ],
    [
      'unknown job named like a prototype member',
      { a: job({ dependsOn: [{ job: 'constructor' }, { job: '__proto__' }] }) },
      [
        'jobs.a.dependsOn[0].job: unknown job "constructor"',
        'jobs.a.dependsOn[1].job: unknown job "__proto__"',
      ],
    ],
    [
      'self dependency',
      { a: job({ dependsOn: [{ job: 'a' }] }) },
      ['jobs.a.dependsOn[0].job: job "a" depends on itself'],
    ],
    [
      'cycle of two',
      { a: job({ dependsOn: [{ job: 'b' }] }), b: job({ dependsOn: [{ job: 'a' }] }) },
      ['jobs.a.dependsOn[0].job: cycle a → b → a'],
    ],
    [
      'cycle of three',
      {
        a: job({ dependsOn: [{ job: 'b' }] }),
        b: job({ dependsOn: [{ job: 'c' }] }),
        c: job({ dependsOn: [{ job: 'a' }] }),
      },
      ['jobs.a.dependsOn[0].job: cycle a → b → c → a'],
    ],
    [
      'cycle reported at its edge and shortest',
      {
        z: job(),
        a: job({ dependsOn: [{ job: 'z' }, { job: 'c' }, { job: 'b' }] }),
        b: job({ dependsOn: [{ job: 'c' }] }),
        c: job({ dependsOn: [{ job: 'a' }] }),
      },
      ['jobs.a.dependsOn[1].job: cycle a → c → a'],
    ],
    [
      'two separate cycles',
      {
        a: job({ dependsOn: [{ job: 'b' }] }),
        b: job({ dependsOn: [{ job: 'a' }] }),
        c: job({ dependsOn: [{ job: 'd' }] }),
        d: job({ dependsOn: [{ job: 'c' }] }),
      },
      ['jobs.a.dependsOn[0].job: cycle a → b → a', 'jobs.c.dependsOn[0].job: cycle c → d → c'],
    ],
    [
      'duplicate dependency',
      {
        a: job(),
        b: job({ dependsOn: [{ job: 'a' }, { job: 'a', conditions: { failure: true } }] }),
      },
      ['jobs.b.dependsOn[1].job: duplicate dependency on "a" (already listed at dependsOn[0])'],
    ],
    [
      'name with uppercase and underscore',
      { Foo_bar: job() },
      [`jobs.Foo_bar: job name "Foo_bar" ${DNS}`],
    ],
    ['name with a dot', { 'a.b': job() }, [`jobs["a.b"]: job name "a.b" ${DNS}`]],
    ['name with a space', { 'a b': job() }, [`jobs["a b"]: job name "a b" ${DNS}`]],
    ['name starting with -', { '-a': job() }, [`jobs["-a"]: job name "-a" ${DNS}`]],
    ['name ending with -', { 'a-': job() }, [`jobs["a-"]: job name "a-" ${DNS}`]],
    ['empty name', { '': job() }, [`jobs[""]: job name "" ${DNS}`]],
    [
      'name of 64 characters',
      { ['a'.repeat(64)]: job() },
      [`jobs.${'a'.repeat(64)}: job name "${'a'.repeat(64)}" ${DNS}`],
    ],
  ])('%s', (_name, jobs, expected) => {
    expect(errors(validatePipeline(withJobs(jobs)))).toEqual(expected);
  });

  it('limits the number of jobs (default 1000, or as configured)', () => {
    const jobs = Object.fromEntries(Array.from({ length: 1200 }, (_, i) => [`j${i}`, job()]));
    expect(errors(validatePipeline(withJobs(jobs)))).toEqual([
      'jobs: 1200 jobs exceed the limit of 1000',
    ]);
    expect(validatePipeline(withJobs(jobs), { maxJobs: 1200 }).ok).toBe(true);
    expect(
      errors(validatePipeline(withJobs({ a: job(), b: job(), c: job() }), { maxJobs: 2 })),
    ).toEqual(['jobs: 3 jobs exceed the limit of 2']);
  });

  it('handles 5000 jobs in a line, with and without a cycle closing it', () => {
    const n = 5000;
    const jobs: Record<string, unknown> = {};
    for (let i = 0; i < n; i++)
      jobs[`j${i}`] = job({ dependsOn: i === 0 ? [] : [{ job: `j${i - 1}` }] });
    expect(validatePipeline(withJobs(jobs), { maxJobs: n }).ok).toBe(true);
    jobs['j0'] = job({ dependsOn: [{ job: `j${n - 1}` }] });
    const result = errorList(validatePipeline(withJobs(jobs), { maxJobs: n }));
    expect(result).toHaveLength(1);
    expect(result[0]?.path).toBe('jobs.j0.dependsOn[0].job');
    expect(result[0]?.message).toMatch(
      new RegExp(`^cycle j0 → j${n - 1} → j${n - 2} → .* → j1 → j0$`),
    );
    expect(result[0]?.message.split(' → ')).toHaveLength(n + 1);
  });
});
