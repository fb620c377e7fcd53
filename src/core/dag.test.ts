import { describe, expect, it } from 'vitest';
import type { CompiledEdge, CompiledJob, Decision } from './dag.ts';
import {
  acceptedStatuses,
  compile,
  decide,
  evaluate,
  failureReason,
  runStatus,
  runStatusOf,
  settle,
  skipReason,
  statusOf,
  toleratedFailures,
  toleratedReason,
} from './dag.ts';
import { expandMatrices } from './matrix.ts';
import { pipeline } from './testing.fixture.ts';
import type { JobStatus, RunStatus } from './types.ts';
import { isTerminalJob, JOB_STATUSES } from './types.ts';

const edge = (job: string, failure = false): CompiledEdge => ({
  job,
  accepts: acceptedStatuses(failure ? { job, conditions: { failure } } : { job }),
});

describe('acceptedStatuses', () => {
  it.each([
    [{ job: 'a' }, ['SUCCESSFUL']],
    [{ job: 'a', conditions: {} }, ['SUCCESSFUL']],
    [{ job: 'a', conditions: { failure: false } }, ['SUCCESSFUL']],
    [{ job: 'a', conditions: { failure: true } }, ['FAILED']],
  ])('%j accepts %j', (dep, accepted) => {
    expect(acceptedStatuses(dep)).toEqual(accepted);
  });
});

describe('decide: one dependency, every status × condition', () => {
  const expected: Record<JobStatus, [plain: string, onFailure: string]> = {
    PENDING: ['wait', 'wait'],
    RUNNING: ['wait', 'wait'],
    SUCCESSFUL: ['run', 'skip'],
    FAILED: ['skip', 'run'],
    SKIPPED: ['skip', 'skip'],
    CANCELED: ['skip', 'skip'],
  };
  const cases = JOB_STATUSES.flatMap((status) => [
    { status, failure: false, kind: expected[status][0] },
    { status, failure: true, kind: expected[status][1] },
  ]);
  it.each(cases)('dependency $status, failure: $failure → $kind', ({ status, failure, kind }) => {
    expect(decide([edge('a', failure)], { a: status }).kind).toBe(kind);
  });
});

describe('decide: several dependencies', () => {
  it('runs with no dependencies', () => {
    expect(decide([], {})).toEqual({ kind: 'run' });
  });
  it('waits while any dependency is not terminal, even if another already rules it out', () => {
    expect(decide([edge('a'), edge('b')], { a: 'FAILED', b: 'RUNNING' })).toEqual({ kind: 'wait' });
    expect(decide([edge('a'), edge('b')], { a: 'SUCCESSFUL', b: 'PENDING' })).toEqual({
      kind: 'wait',
    });
  });
  it('counts a missing status as PENDING, and only own keys as statuses', () => {
    expect(decide([edge('a')], {})).toEqual({ kind: 'wait' });
    expect(decide([edge('constructor')], {})).toEqual({ kind: 'wait' });
    expect(statusOf({}, 'toString')).toBe('PENDING');
  });
  it('runs when every dependency ended as it requires, mixed conditions', () => {
    const edges = [edge('a'), edge('b', true)];
    expect(decide(edges, { a: 'SUCCESSFUL', b: 'FAILED' })).toEqual({ kind: 'run' });
    expect(decide(edges, { a: 'SUCCESSFUL', b: 'SUCCESSFUL' }).kind).toBe('skip');
  });
  it('gives the first dependency it does not accept as the reason', () => {
    const edges = [edge('a'), edge('b', true), edge('c')];
    expect(decide(edges, { a: 'SUCCESSFUL', b: 'CANCELED', c: 'FAILED' })).toEqual({
      kind: 'skip',
      reason: 'dependency "b" ended CANCELED; this job runs only when it is FAILED',
    });
  });
});

describe('skipReason and failureReason', () => {
  it.each<[CompiledEdge, JobStatus, string]>([
    [
      edge('load'),
      'FAILED',
      'dependency "load" ended FAILED; this job runs only when it is SUCCESSFUL',
    ],
    [
      edge('load', true),
      'SKIPPED',
      'dependency "load" ended SKIPPED; this job runs only when it is FAILED',
    ],
    [
      { job: 'x', accepts: ['SUCCESSFUL', 'FAILED'] },
      'CANCELED',
      'dependency "x" ended CANCELED; this job runs only when it is SUCCESSFUL or FAILED',
    ],
  ])('%j ended %s', (dep, actual, reason) => {
    expect(skipReason(dep, actual)).toBe(reason);
  });
  it.each([
    [['a'], false, 'job "a" failed'],
    [['a', 'b'], false, 'jobs "a", "b" failed'],
    [['a'], true, 'job "a" failed (handled by a fallback; a run with a failed job is FAILED)'],
  ])('%j (handled: %s) → %s', (jobs, handled, reason) => {
    expect(failureReason(jobs, handled)).toBe(reason);
  });
});

describe('runStatus', () => {
  it.each<[JobStatus[], boolean, RunStatus]>([
    [['PENDING', 'PENDING'], false, 'PENDING'],
    [[], false, 'PENDING'],
    [['SUCCESSFUL', 'PENDING'], false, 'RUNNING'],
    [['RUNNING', 'PENDING'], false, 'RUNNING'],
    [['FAILED', 'RUNNING'], false, 'RUNNING'],
    [['FAILED', 'PENDING'], false, 'RUNNING'],
    [['SUCCESSFUL', 'SKIPPED'], false, 'SUCCESSFUL'],
    [['SUCCESSFUL', 'CANCELED'], false, 'SUCCESSFUL'],
    [['SKIPPED', 'SKIPPED'], false, 'SUCCESSFUL'],
    [['SUCCESSFUL', 'FAILED', 'SKIPPED'], false, 'FAILED'],
    [['FAILED'], false, 'FAILED'],
    [['PENDING'], true, 'CANCELED'],
    [['RUNNING', 'SUCCESSFUL'], true, 'CANCELED'],
    [['FAILED', 'CANCELED'], true, 'CANCELED'],
  ])('%j, canceled %s → %s', (statuses, canceled, status) => {
    expect(runStatus(statuses, canceled)).toBe(status);
  });
});

describe('compile', () => {
  it('finds roots, dependencies with accepted statuses, and dependents', () => {
    const compiled = compile(pipeline({ a: [], b: [], c: ['a', '!b'], d: ['c', 'a'] }));
    expect(compiled.roots).toEqual(['a', 'b']);
    expect(compiled.jobs).toEqual({
      a: { deps: [], anyOf: [], dependents: ['c', 'd'], tolerated: false, cleanup: false },
      b: { deps: [], anyOf: [], dependents: ['c'], tolerated: false, cleanup: false },
      c: {
        deps: [
          { job: 'a', accepts: ['SUCCESSFUL'] },
          { job: 'b', accepts: ['FAILED'] },
        ],
        anyOf: [],
        dependents: ['d'],
        tolerated: false,
        cleanup: false,
      },
      d: {
        deps: [
          { job: 'c', accepts: ['SUCCESSFUL'] },
          { job: 'a', accepts: ['SUCCESSFUL'] },
        ],
        anyOf: [],
        dependents: [],
        tolerated: false,
        cleanup: false,
      },
    });
  });
  it('marks cleanup jobs (each dependency always, no either-of), not instances ordered by maxParallel', () => {
    const always = { conditions: { always: true } };
    const compiled = compile(
      expandMatrices({
        kind: 'Pipeline',
        jobs: {
          load: { image: 'busybox', run: 'true' },
          cleanup: { image: 'busybox', run: 'true', dependsOn: [{ job: 'load', ...always }] },
          either: { image: 'busybox', run: 'true', dependsOn: [{ anyOf: ['load', 'cleanup'] }] },
          shard: { image: 'busybox', run: 'true', matrix: { n: ['1', '2'] }, maxParallel: 1 },
          sweep: {
            image: 'busybox',
            run: 'true',
            matrix: { n: ['1', '2'] },
            maxParallel: 1,
            dependsOn: [{ job: 'load', ...always }],
          },
        },
      }),
    );
    const cleanup = Object.entries(compiled.jobs)
      .filter(([, j]) => j.cleanup)
      .map(([name]) => name);
    expect(cleanup).toEqual(['cleanup', 'sweep-1', 'sweep-2']);
    expect(compiled.jobs['shard-2']?.deps).toEqual([
      { job: 'shard-1', accepts: ['SUCCESSFUL', 'FAILED', 'SKIPPED', 'CANCELED'] },
    ]);
  });
  it('lists a dependent once even when it depends twice, and ignores unknown jobs', () => {
    const compiled = compile(pipeline({ a: [], b: ['a', '!a', 'constructor'] }));
    expect(compiled.jobs['a']?.dependents).toEqual(['b']);
    expect(compiled.roots).toEqual(['a']);
  });
});

describe('evaluate and settle', () => {
  const chain = compile(pipeline({ a: [], b: ['a'], c: ['b'], d: ['!c'], e: ['a'], f: [] }));
  it('evaluate decides only PENDING jobs, one level at a time', () => {
    expect(evaluate(chain, {})).toEqual({ ready: ['a', 'f'], skipped: [] });
    expect(evaluate(chain, { a: 'RUNNING', f: 'RUNNING' })).toEqual({ ready: [], skipped: [] });
    const step = evaluate(chain, { a: 'FAILED', f: 'SUCCESSFUL' });
    expect(step.ready).toEqual([]);
    expect(step.skipped.map((s) => s.job)).toEqual(['b', 'e']);
  });
  it('settle propagates skips through the chain, even past a failure condition', () => {
    const input: Record<string, JobStatus> = { a: 'FAILED', f: 'RUNNING' };
    const result = settle(chain, input);
    expect(result.statuses).toEqual({
      ...input,
      b: 'SKIPPED',
      c: 'SKIPPED',
      d: 'SKIPPED',
      e: 'SKIPPED',
    });
    expect(result.ready).toEqual([]);
    expect(result.skipped).toEqual([
      { job: 'b', reason: 'dependency "a" ended FAILED; this job runs only when it is SUCCESSFUL' },
      { job: 'e', reason: 'dependency "a" ended FAILED; this job runs only when it is SUCCESSFUL' },
      {
        job: 'c',
        reason: 'dependency "b" ended SKIPPED; this job runs only when it is SUCCESSFUL',
      },
      { job: 'd', reason: 'dependency "c" ended SKIPPED; this job runs only when it is FAILED' },
    ]);
    expect(input).toEqual({ a: 'FAILED', f: 'RUNNING' }); // not mutated
  });
  it('settle returns the jobs that became ready', () => {
    const result = settle(chain, {
      a: 'SUCCESSFUL',
      b: 'SUCCESSFUL',
      c: 'SUCCESSFUL',
      f: 'FAILED',
    });
    expect(result.ready).toEqual(['e']);
    expect(result.statuses['d']).toBe('SKIPPED');
  });
  it('a fallback runs when its dependency failed; the normal path is skipped', () => {
    const result = settle(chain, { a: 'SUCCESSFUL', b: 'SUCCESSFUL', c: 'FAILED' });
    expect(result.ready).toEqual(['d', 'e', 'f']);
    expect(result.skipped).toEqual([]);
  });
  it('reads only own keys of the statuses: a job named "constructor" is ready', () => {
    const compiled = compile(pipeline({ constructor: [], 'value-of': ['constructor'] }));
    expect(evaluate(compiled, {}).ready).toEqual(['constructor']);
    const statuses = new Map<string, JobStatus>([['constructor', 'SUCCESSFUL']]);
    expect(settle(compiled, Object.fromEntries(statuses)).ready).toEqual(['value-of']);
  });
  it('settles a long chain of skips', () => {
    const spec: Record<string, string[]> = { j0: [] };
    for (let i = 1; i < 300; i++) spec[`j${i}`] = [`j${i - 1}`];
    const result = settle(compile(pipeline(spec)), { j0: 'CANCELED' });
    expect(result.skipped).toHaveLength(299);
    expect(result.statuses['j299']).toBe('SKIPPED');
  });
});

describe('either-of groups (anyOf): every pair of member statuses', () => {
  const compiled = compile({
    kind: 'Pipeline',
    jobs: {
      primary: { image: 'busybox', run: 'true' },
      fallback: { image: 'busybox', run: 'true' },
      join: { image: 'busybox', run: 'true', dependsOn: [{ anyOf: ['primary', 'fallback'] }] },
    },
  });
  const join = compiled.jobs['join'] as CompiledJob;
  /** The rule as written in docs/PIPELINES.md: wait for all, run if one is SUCCESSFUL. */
  const rule = (a: JobStatus, b: JobStatus): Decision['kind'] => {
    if (!isTerminalJob(a) || !isTerminalJob(b)) return 'wait';
    return a === 'SUCCESSFUL' || b === 'SUCCESSFUL' ? 'run' : 'skip';
  };
  const cases = JOB_STATUSES.flatMap((primary) =>
    JOB_STATUSES.map((fallback) => ({ primary, fallback, kind: rule(primary, fallback) })),
  );
  it.each(cases)('primary $primary, fallback $fallback → $kind', ({ primary, fallback, kind }) => {
    const decision = decide(join.deps, { primary, fallback }, join.anyOf);
    expect(decision.kind).toBe(kind);
    if (decision.kind === 'skip') {
      expect(decision.reason).toBe(
        `none of its either-of dependencies ended SUCCESSFUL ("primary" ${primary}, "fallback" ${fallback}); this job needs at least one`,
      );
    }
  });
  it('is decided after the plain dependencies: their reason comes first', () => {
    const edges = [edge('a'), ...join.deps];
    const decision = decide(
      edges,
      { a: 'FAILED', primary: 'FAILED', fallback: 'FAILED' },
      join.anyOf,
    );
    expect(decision).toEqual({
      kind: 'skip',
      reason: 'dependency "a" ended FAILED; this job runs only when it is SUCCESSFUL',
    });
  });
  it('joins a primary and its fallback: whichever succeeded lets the join run', () => {
    const pair = compile({
      kind: 'Pipeline',
      jobs: {
        primary: { image: 'busybox', run: 'true' },
        fallback: {
          image: 'busybox',
          run: 'true',
          dependsOn: [{ job: 'primary', conditions: { failure: true } }],
        },
        join: { image: 'busybox', run: 'true', dependsOn: [{ anyOf: ['primary', 'fallback'] }] },
      },
    });
    expect(settle(pair, { primary: 'SUCCESSFUL' }).ready).toEqual(['join']);
    expect(settle(pair, { primary: 'FAILED' }).ready).toEqual(['fallback']);
    expect(settle(pair, { primary: 'FAILED', fallback: 'SUCCESSFUL' }).ready).toEqual(['join']);
    expect(settle(pair, { primary: 'FAILED', fallback: 'FAILED' }).statuses['join']).toBe(
      'SKIPPED',
    );
  });
});

describe('tolerated failures (allowFailure)', () => {
  it.each<[JobStatus[], number, RunStatus]>([
    [['FAILED', 'SUCCESSFUL'], 1, 'SUCCESSFUL'],
    [['FAILED', 'FAILED'], 1, 'FAILED'],
    [['FAILED', 'FAILED'], 2, 'SUCCESSFUL'],
    [['FAILED', 'RUNNING'], 1, 'RUNNING'],
    [['FAILED', 'PENDING'], 1, 'RUNNING'],
  ])('%j with %i tolerated → %s', (statuses, tolerated, status) => {
    expect(runStatus(statuses, false, tolerated)).toBe(status);
  });
  it('counts only the FAILED jobs marked allowFailure as tolerated', () => {
    const compiled = compile({
      kind: 'Pipeline',
      jobs: {
        lint: { image: 'busybox', run: 'false', allowFailure: true },
        test: { image: 'busybox', run: 'true' },
      },
    });
    expect(toleratedFailures(compiled, { lint: 'FAILED', test: 'SUCCESSFUL' })).toEqual(['lint']);
    expect(runStatusOf(compiled, { lint: 'FAILED', test: 'SUCCESSFUL' })).toBe('SUCCESSFUL');
    expect(runStatusOf(compiled, { lint: 'FAILED', test: 'FAILED' })).toBe('FAILED');
    expect(runStatusOf(compiled, { lint: 'SUCCESSFUL', test: 'SUCCESSFUL' })).toBe('SUCCESSFUL');
    expect(toleratedReason(['lint'])).toBe('job "lint" failed (tolerated: allowFailure)');
    expect(toleratedReason(['a', 'b'])).toBe('jobs "a", "b" failed (tolerated: allowFailure)');
  });
});
