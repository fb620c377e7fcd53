import { describe, expect, it } from 'vitest';
import { settle, compile } from './dag.ts';
import { expandMatrices, instanceName, MAX_MATRIX_INSTANCES } from './matrix.ts';
import { planRun } from './plan.ts';
import { errors, job, withJobs } from './testing.fixture.ts';
import type { Pipeline } from './types.ts';
import { validatePipeline } from './validate.ts';

const pipeline: Pipeline = {
  kind: 'Pipeline',
  jobs: {
    setup: { image: 'busybox', run: 'true' },
    test: {
      image: 'node:${{ matrix.node }}',
      run: 'npm test',
      env: { TARGET: '${{ matrix.os }}-x' },
      dependsOn: [{ job: 'setup' }],
      matrix: { os: ['Linux', 'mac OS'], node: ['18', '20'] },
      maxParallel: 2,
    },
    report: { image: 'busybox', run: 'true', dependsOn: [{ job: 'test' }] },
    either: { image: 'busybox', run: 'true', dependsOn: [{ anyOf: ['test', 'setup'] }] },
  },
};

describe('expandMatrices', () => {
  const expanded = expandMatrices(pipeline);
  const instances = ['test-linux-18', 'test-linux-20', 'test-mac-os-18', 'test-mac-os-20'];

  it('replaces a matrix job by one instance per combination, named after its values', () => {
    expect(Object.keys(expanded.jobs)).toEqual(['setup', ...instances, 'report', 'either']);
    expect(instanceName('build', { os: 'Ubuntu 24.04' })).toBe('build-ubuntu-24-04');
  });

  it('gives each instance its values as variables and in image and env', () => {
    expect(expanded.jobs['test-mac-os-20']).toMatchObject({
      image: 'node:20',
      env: { CHAINR_MATRIX_OS: 'mac OS', CHAINR_MATRIX_NODE: '20', TARGET: 'mac OS-x' },
    });
    expect(expanded.jobs['test-mac-os-20']?.matrix).toBeUndefined();
  });

  it('substitutes its values in command and args too', () => {
    const argv = expandMatrices({
      kind: 'Pipeline',
      jobs: {
        t: {
          image: 'node:${{ matrix.node }}',
          command: ['node${{ matrix.node }}', '--os=${{ matrix.os }}'],
          args: ['${{matrix.os}}/${{ matrix.node }}'],
          matrix: { os: ['linux'], node: ['20'] },
        },
      },
    });
    expect(argv.jobs['t-linux-20']).toMatchObject({
      command: ['node20', '--os=linux'],
      args: ['linux/20'],
    });
  });

  it('makes a dependency on the matrix job one on every instance (plain or in a group)', () => {
    expect(expanded.jobs['report']?.dependsOn).toEqual(instances.map((job) => ({ job })));
    expect(expanded.jobs['either']?.dependsOn).toEqual([{ anyOf: [...instances, 'setup'] }]);
  });

  it('lets instance i start only once instance i-maxParallel ended, whatever its end', () => {
    expect(expanded.jobs['test-linux-18']?.dependsOn).toEqual([{ job: 'setup' }]);
    expect(expanded.jobs['test-mac-os-18']?.dependsOn).toEqual([
      { job: 'setup' },
      { job: 'test-linux-18', conditions: { always: true } },
    ]);
    const compiled = compile(expanded);
    const ready = settle(compiled, { setup: 'SUCCESSFUL' }).ready;
    expect(ready).toEqual(['test-linux-18', 'test-linux-20']);
    const later = settle(compiled, {
      setup: 'SUCCESSFUL',
      'test-linux-18': 'FAILED',
      'test-linux-20': 'RUNNING',
    }).ready;
    expect(later).toEqual(['test-mac-os-18']);
  });

  it('with failFast, skips the instances not started once one FAILED; running ones go on', () => {
    const fast = expandMatrices({
      kind: 'Pipeline',
      jobs: {
        t: { image: 'busybox', run: 'true', matrix: { n: ['1', '2', '3'] }, failFast: true },
        after: { image: 'busybox', run: 'true', dependsOn: [{ job: 't' }] },
      },
    });
    const compiled = compile(fast);
    const settled = settle(compiled, { 't-1': 'FAILED', 't-2': 'RUNNING' });
    expect(settled.statuses).toMatchObject({ 't-1': 'FAILED', 't-2': 'RUNNING', 't-3': 'SKIPPED' });
    expect(settled.skipped).toEqual([
      { job: 't-3', reason: 'instance "t-1" of "t" failed (failFast)' },
    ]);
    // Allowed to fail: a failure is not one failFast reacts to.
    const tolerated = compile(
      expandMatrices({
        kind: 'Pipeline',
        jobs: {
          t: {
            image: 'busybox',
            run: 'true',
            matrix: { n: ['1', '2'] },
            failFast: true,
            allowFailure: true,
          },
        },
      }),
    );
    expect(settle(tolerated, { 't-1': 'FAILED' }).ready).toEqual(['t-2']);
  });

  it('is what a run plan holds', () => {
    const plan = planRun(pipeline, {}, { defaultExecutor: 'local' });
    expect(Object.keys(plan.jobs)).toEqual(Object.keys(expanded.jobs));
    expect(plan.jobs['test-linux-18']?.env['CHAINR_MATRIX_OS']).toBe('Linux');
  });
});

describe('validation of matrix', () => {
  it('accepts a matrix', () => {
    expect(errors(validatePipeline(pipeline))).toEqual([]);
  });

  it('refuses too many instances, clashing or invalid names, unknown keys, a stray maxParallel', () => {
    const many = Array.from({ length: 17 }, (_, i) => `v${i}`);
    const result = validatePipeline(
      withJobs({
        big: job({ matrix: { a: many, b: many } }),
        'x-1': job(),
        x: job({ matrix: { n: ['1', '2'] }, env: { A: '${{ matrix.m }}' } }),
        w: job({
          run: undefined,
          command: ['echo', '${{ matrix.k }}'],
          args: ['${{ matrix.n }}'],
          matrix: { n: ['1'] },
        }),
        y: job({ matrix: { n: ['a'.repeat(70)] } }),
        z: job({ maxParallel: 2, failFast: true }),
        e: job({ matrix: { n: [] } }),
      }),
    );
    expect(errors(result)).toEqual([
      `jobs.big.matrix: 289 combinations exceed the limit of ${MAX_MATRIX_INSTANCES} instances of one job`,
      'jobs.e.matrix.n: must have at least 1 item',
      'jobs.w.command[1]: unknown matrix value "k" (the job\'s matrix has n)',
      'jobs.x.env.A: unknown matrix value "m" (the job\'s matrix has n)',
      'jobs.x.matrix: the instance for n="1" would be named "x-1", like job "x-1": rename one, or use values that differ once lower-cased',
      `jobs.y.matrix: the instance for n="${'a'.repeat(70)}" would be named "y-${'a'.repeat(70)}", which is not a DNS-1123 label (at most 63 lowercase letters, digits and '-'): use shorter values or a shorter job name`,
      'jobs.y.matrix.n[0]: must be at most 63 characters long',
      'jobs.z.failFast: applies to a matrix job: add a matrix, or remove it',
      'jobs.z.maxParallel: applies to a matrix job: add a matrix, or remove it',
    ]);
  });

  it('counts the instances against the job limit', () => {
    const result = validatePipeline(withJobs({ m: job({ matrix: { n: ['1', '2', '3'] } }) }), {
      maxJobs: 2,
    });
    expect(errors(result)).toEqual([
      'jobs: 3 jobs once the matrices are expanded exceed the limit of 2',
    ]);
  });
});

describe('conditions reading a matrix job', () => {
  const reading = (when: string) =>
    withJobs({
      test: job({ matrix: { os: ['linux', 'mac'], node: ['18', '20'] } }),
      report: job({ dependsOn: [{ job: 'test' }], when }),
    });

  it('reads an instance by its name', () => {
    expect(errors(validatePipeline(reading('jobs["test-mac-20"].status == "FAILED"')))).toEqual([]);
  });

  it("refuses the matrix job's own name, naming its instances", () => {
    expect(errors(validatePipeline(reading('jobs.test.status == "FAILED"')))).toEqual([
      'jobs.report.when: "test" is a matrix job, which runs as its instances: read one of them, jobs["test-linux-18"], jobs["test-linux-20"], jobs["test-mac-18"], … (4 in all) (line 1, column 6 of the expression; it may read params.<name> and jobs.<ancestor>.status or .outputs.<key>)',
    ]);
  });
});
