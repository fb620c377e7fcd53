import { describe, expect, it } from 'vitest';
import { evaluateCondition, type ConditionPlan } from './conditions.ts';
import { parsePipeline, validatePipeline } from './validate.ts';
import { errors, job, located, withJobs } from './testing.fixture.ts';

const plan = (expression: string, params: Record<string, string> = {}): ConditionPlan => ({
  expression,
  params,
  deps: ['extract', 'load-all'],
});

const facts = {
  extract: { status: 'SUCCESSFUL' as const, outputs: { rows: '12' } },
  'load-all': { status: 'FAILED' as const, outputs: {} },
};

describe('evaluateCondition', () => {
  it.each([
    ['params.env == "prod"', { env: 'prod' }],
    ['jobs.extract.status == "SUCCESSFUL"', {}],
    ['int(jobs.extract.outputs.rows) > 10', {}],
    ['jobs["load-all"].status == "FAILED"', {}],
    ['"rows" in jobs.extract.outputs && !("rows" in jobs["load-all"].outputs)', {}],
  ])('%s is true', (expression, params) => {
    expect(evaluateCondition(plan(expression, params), facts)).toEqual({ ok: true, value: true });
  });

  it('gives the expression and the values it read when false', () => {
    const result = evaluateCondition(
      plan('params.env == "prod" && int(jobs.extract.outputs.rows) > 100', { env: 'dev' }),
      facts,
    );
    expect(result).toEqual({
      ok: true,
      value: false,
      reason:
        'condition params.env == "prod" && int(jobs.extract.outputs.rows) > 100 is false (params.env = "dev", jobs.extract.outputs.rows = "12")',
    });
  });

  it('says an output the expression reads is absent', () => {
    const result = evaluateCondition(plan('jobs.extract.outputs.files == "x"'), facts);
    expect(result).toEqual({
      ok: false,
      reason:
        'condition jobs.extract.outputs.files == "x" could not be evaluated: No such key: files',
    });
  });
});

describe('validation of when', () => {
  const withWhen = (when: string) =>
    withJobs({
      extract: job(),
      load: job({ dependsOn: [{ job: 'extract' }], when }),
      other: job(),
    });

  it('accepts conditions over params and dependencies', () => {
    const pipeline = {
      ...withWhen('params.env == "prod" && jobs.extract.status == "SUCCESSFUL"'),
      params: { env: {} },
    };
    expect(errors(validatePipeline(pipeline))).toEqual([]);
  });

  it.each([
    ['params.env == "prod"', 'No such key: env (line 1, column 8'],
    ['jobs.other.status == "FAILED"', 'No such key: other (line 1, column 6'],
    ['jobs.extract.status + 1 == 2', 'no such overload: string + int (line 1, column 1'],
    ['jobs.extract.status', 'must be a boolean expression, not string (line 1, column 1'],
    ['jobs.extract.status ==', 'Unexpected token: EOF (line 1, column 23'],
  ])('refuses %s', (when, message) => {
    const [error, ...rest] = errors(validatePipeline(withWhen(when)));
    expect(rest).toEqual([]);
    expect(error).toContain(`jobs.load.when: ${message}`);
  });

  it('points at the line and column of the problem in a YAML document', () => {
    const yaml = [
      'kind: Pipeline',
      'jobs:',
      '  extract: { image: busybox, run: "true" }',
      '  load:',
      '    image: busybox',
      '    run: "true"',
      '    dependsOn: [{ job: extract }]',
      '    when: |',
      '      jobs.extract.status == "SUCCESSFUL" &&',
      '        jobs.extrct.outputs.rows != "0"',
      '',
    ].join('\n');
    const [error] = located(parsePipeline(yaml, 'yaml'));
    expect(error).toMatch(/^10:14 jobs\.load\.when: No such key: extrct \(line 2, column 8 /);
  });

  it('points inside a JSON string too', () => {
    const json = JSON.stringify(
      { kind: 'Pipeline', jobs: { a: { image: 'busybox', run: 'true', when: 'params.x' } } },
      null,
      2,
    );
    const [error] = located(parsePipeline(json, 'json'));
    const line = json.split('\n').findIndex((l) => l.includes('"when"')) + 1;
    const column = (json.split('\n')[line - 1] ?? '').indexOf('params.x') + 1 + 'params.'.length;
    expect(error).toMatch(new RegExp(`^${line}:${column} jobs\\.a\\.when: No such key: x `));
  });
});

describe('validation of anyOf', () => {
  it('accepts an either-of group and checks its members like dependencies', () => {
    const ok = withJobs({ a: job(), b: job(), c: job({ dependsOn: [{ anyOf: ['a', 'b'] }] }) });
    expect(errors(validatePipeline(ok))).toEqual([]);
    const bad = withJobs({
      a: job(),
      b: job({ dependsOn: [{ job: 'a' }, { anyOf: ['a', 'zz', 'b'] }] }),
      c: job({ dependsOn: [{ anyOf: ['a', 'b'], conditions: { failure: true } }] }),
      d: job({ dependsOn: [{ anyOf: ['a'] }] }),
    });
    expect(errors(validatePipeline(bad))).toEqual([
      'jobs.b.dependsOn[1].anyOf[0]: duplicate dependency on "a" (already listed at dependsOn[0])',
      'jobs.b.dependsOn[1].anyOf[1]: unknown job "zz"',
      'jobs.b.dependsOn[1].anyOf[2]: job "b" depends on itself',
      'jobs.c.dependsOn[0].anyOf: an either-of group stands alone: "anyOf" takes no "job" or "conditions" beside it (its rule is: at least one SUCCESSFUL)',
      'jobs.d.dependsOn[0].anyOf: must have at least 2 items',
    ]);
  });

  it('finds a cycle through an either-of group', () => {
    const cyclic = withJobs({
      a: job({ dependsOn: [{ anyOf: ['b', 'c'] }] }),
      b: job({ dependsOn: [{ job: 'a' }] }),
      c: job(),
    });
    expect(errors(validatePipeline(cyclic))).toEqual([
      'jobs.a.dependsOn[0].anyOf[0]: cycle a → b → a',
    ]);
  });
});
