import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { SEED_EXAMPLE } from './examples.fixture.ts';
import { DNS, errors, job, withJobs } from './testing.fixture.ts';
import type { PipelineError } from './types.ts';
import { formatError, MAX_ERRORS, pipelineSchema, validatePipeline } from './validate.ts';

describe('validatePipeline: valid pipelines', () => {
  it('accepts the seed example and returns it', () => {
    const value: unknown = JSON.parse(SEED_EXAMPLE);
    expect(validatePipeline(value)).toEqual({ ok: true, pipeline: value });
  });
  it('accepts metadata, labels, empty commands and names that are DNS-1123 labels', () => {
    const value = {
      kind: 'Pipeline',
      metadata: {
        name: 'Nightly load',
        labels: { team: 'data', 'app.kubernetes.io/part-of': 'dwh', empty: '' },
      },
      jobs: {
        a: job({ run: '' }),
        '1st': job(),
        'a-b-9': job({ dependsOn: [{ job: 'a', conditions: {} }] }),
        ['x'.repeat(63)]: job(),
      },
    };
    expect(errors(validatePipeline(value))).toEqual([]);
  });
});

describe('validatePipeline: schema errors', () => {
  const long = (n: number) => 'x'.repeat(n);
  it.each<[string, unknown, string[]]>([
    ['not an object', [], ['the pipeline must be an object']],
    ['null', null, ['the pipeline must be an object']],
    ['a string', 'kind: Pipeline', ['the pipeline must be an object']],
    ['empty object', {}, ['jobs: is required', 'kind: is required']],
    ['wrong kind', { kind: 'Run', jobs: { a: job() } }, ['kind: must be "Pipeline"']],
    ['kind of another type', { kind: 1, jobs: { a: job() } }, ['kind: must be "Pipeline"']],
    [
      'unknown top-level field',
      { kind: 'Pipeline', jobs: { a: job() }, job: {} },
      ['unknown field "job"'],
    ],
    ['no jobs', withJobs({}), ['jobs: must contain at least one job']],
    ['jobs a list', withJobs([job()]), ['jobs: must be an object']],
    ['job not an object', withJobs({ a: 'busybox' }), ['jobs.a: must be an object']],
    ['image missing', withJobs({ first: { run: 'true' } }), ['jobs.first.image: is required']],
    [
      'run missing',
      withJobs({ first: { image: 'x' } }),
      ['jobs.first: needs "run" (a shell command) or "command" (a program and its arguments)'],
    ],
    [
      'misspelt field',
      withJobs({ first: { imgae: 'x', run: 'true' } }),
      ['jobs.first: unknown field "imgae"', 'jobs.first.image: is required'],
    ],
    [
      'image empty',
      withJobs({ first: job({ image: '' }) }),
      ['jobs.first.image: must not be empty'],
    ],
    [
      'image too long',
      withJobs({ first: job({ image: long(513) }) }),
      ['jobs.first.image: must be at most 512 characters long'],
    ],
    [
      'run not a string',
      withJobs({ first: job({ run: ['sh', '-c'] }) }),
      ['jobs.first.run: must be a string'],
    ],
    [
      'run too long',
      withJobs({ first: job({ run: long(65537) }) }),
      ['jobs.first.run: must be at most 65536 characters long'],
    ],
    [
      'dependsOn not a list',
      withJobs({ a: job({ dependsOn: 'b' }) }),
      ['jobs.a.dependsOn: must be an array'],
    ],
    [
      'dependency a string',
      withJobs({ a: job({ dependsOn: ['b'] }) }),
      ['jobs.a.dependsOn[0]: must be an object'],
    ],
    [
      'dependency without job',
      withJobs({ a: job({ dependsOn: [{}] }) }),
      ['jobs.a.dependsOn[0]: needs "job" (a job to wait for) or "anyOf" (an either-of group)'],
    ],
    [
      'dependency job a number',
      withJobs({ a: job({ dependsOn: [{ job: 1 }] }) }),
      ['jobs.a.dependsOn[0].job: must be a string'],
    ],
    [
      'dependency unknown field',
      withJobs({ a: job(), b: job({ dependsOn: [{ job: 'a', when: 'failure' }] }) }),
      ['jobs.b.dependsOn[0]: unknown field "when"'],
    ],
    [
      'failure not a boolean',
      withJobs({ a: job(), b: job({ dependsOn: [{ job: 'a', conditions: { failure: 'yes' } }] }) }),
      ['jobs.b.dependsOn[0].conditions.failure: must be a boolean (true or false)'],
    ],
    [
      'conditions unknown field',
      withJobs({ a: job(), b: job({ dependsOn: [{ job: 'a', conditions: { success: true } }] }) }),
      ['jobs.b.dependsOn[0].conditions: unknown field "success"'],
    ],
    [
      'metadata unknown field',
      { ...withJobs({ a: job() }), metadata: { owner: 'me' } },
      ['metadata: unknown field "owner"'],
    ],
    [
      'metadata name empty',
      { ...withJobs({ a: job() }), metadata: { name: '' } },
      ['metadata.name: must not be empty'],
    ],
    [
      'label key invalid',
      { ...withJobs({ a: job() }), metadata: { labels: { 'a b': 'x' } } },
      [
        `metadata.labels["a b"]: label key "a b" must be 1 to 63 characters of letters, digits, '.', '_', '/' and '-'`,
      ],
    ],
    [
      'label key too long',
      { ...withJobs({ a: job() }), metadata: { labels: { [long(64)]: 'x' } } },
      [
        `metadata.labels.${long(64)}: label key "${long(64)}" must be 1 to 63 characters of letters, digits, '.', '_', '/' and '-'`,
      ],
    ],
    [
      'label value too long',
      { ...withJobs({ a: job() }), metadata: { labels: { team: long(64) } } },
      ['metadata.labels.team: must be at most 63 characters long'],
    ],
    [
      'label value a number',
      { ...withJobs({ a: job() }), metadata: { labels: { tier: 1 } } },
      ['metadata.labels.tier: must be a string'],
    ],
  ])('%s', (_name, value, expected) => {
    expect(errors(validatePipeline(value))).toEqual(expected);
  });
});

describe('validatePipeline: several errors', () => {
  it('reports schema and graph errors together, sorted by path', () => {
    const value = {
      kind: 'pipeline',
      jobs: {
        b: job({ dependsOn: [{ job: 'b' }, { job: 'a' }, { job: 'a' }] }),
        Bad: { run: 1 },
        a: job({ image: '', dependsOn: Array.from({ length: 11 }, (_, i) => ({ job: `x${i}` })) }),
      },
    };
    const result = errors(validatePipeline(value));
    expect(result).toEqual([
      `jobs.Bad: job name "Bad" ${DNS}`,
      'jobs.Bad.image: is required',
      'jobs.Bad.run: must be a string',
      ...Array.from({ length: 11 }, (_, i) => `jobs.a.dependsOn[${i}].job: unknown job "x${i}"`),
      'jobs.a.image: must not be empty',
      'jobs.b.dependsOn[0].job: job "b" depends on itself',
      'jobs.b.dependsOn[2].job: duplicate dependency on "a" (already listed at dependsOn[1])',
      'kind: must be "Pipeline"',
    ]);
  });

  it(`reports at most ${MAX_ERRORS} errors and says how many more there are`, () => {
    const jobs = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`J${i}`, job()]));
    const result = errors(validatePipeline(withJobs(jobs)));
    expect(result).toHaveLength(MAX_ERRORS + 1);
    expect(result[MAX_ERRORS]).toBe('50 more errors not shown');
  });

  it('never throws, even on values JSON cannot produce', () => {
    const circular: Record<string, unknown> = { kind: 'Pipeline' };
    circular['jobs'] = { a: { image: 'x', run: 'y', dependsOn: circular } };
    expect(errors(validatePipeline(circular))).toEqual(['jobs.a.dependsOn: must be an array']);
    const hostile = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('boom');
        },
      },
    );
    expect(errors(validatePipeline({ kind: 'Pipeline', jobs: hostile }))).toEqual([
      'the pipeline could not be checked: boom',
    ]);
    for (const value of [
      undefined,
      0,
      true,
      Symbol('x'),
      () => 1,
      new Date(0),
      Object.create(null),
    ]) {
      expect(validatePipeline(value).ok).toBe(false);
    }
  });
});

describe('formatError', () => {
  it.each<[PipelineError, string]>([
    [{ path: 'jobs.a.image', message: 'is required' }, 'jobs.a.image: is required'],
    [{ path: 'jobs.a', message: 'x', line: 3, column: 4 }, 'jobs.a: x'],
    [{ path: '', message: 'the document is empty' }, 'the document is empty'],
  ])('%j → %s', (error, text) => {
    expect(formatError(error)).toBe(text);
  });
});

describe('pipelineSchema', () => {
  it('refuses a job name that is not a DNS-1123 label by itself (propertyNames), as editors read it', () => {
    const check = new Ajv({ strict: false }).compile(pipelineSchema);
    const pipeline = (name: string) => ({
      kind: 'Pipeline',
      jobs: { [name]: { image: 'x', run: 'true' } },
    });
    expect(check(pipeline('build-1'))).toBe(true);
    for (const bad of ['Build', 'a_b', '-a', 'a-', 'a.b', 'x'.repeat(64)]) {
      expect(check(pipeline(bad)), bad).toBe(false);
      expect(
        check.errors?.some((e) => e.keyword === 'propertyNames'),
        bad,
      ).toBe(true);
    }
  });

  it('is the draft-07 schema with a title and description on every property', () => {
    expect(pipelineSchema['$schema']).toBe('http://json-schema.org/draft-07/schema#');
    const missing: string[] = [];
    const visit = (node: unknown, where: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const schema = node as Record<string, unknown>;
      if (!('title' in schema) || !('description' in schema)) missing.push(where);
      for (const [name, child] of Object.entries(schema['properties'] ?? {}))
        visit(child, `${where}.${name}`);
      for (const key of ['additionalProperties', 'items', 'propertyNames'])
        visit(schema[key], `${where}/${key}`);
    };
    visit(pipelineSchema, '');
    expect(missing).toEqual([]);
  });
});

describe('validatePipeline: run, or command and args', () => {
  it('accepts a program and its arguments instead of run', () => {
    const value = withJobs({
      a: { image: 'gcr.io/distroless/static', command: ['/app'], args: ['--x', ''] },
      b: { image: 'scratch-app', command: ['/app', '-v'] },
    });
    expect(errors(validatePipeline(value))).toEqual([]);
  });

  it.each<[string, unknown, string[]]>([
    [
      'neither',
      { image: 'x' },
      ['jobs.a: needs "run" (a shell command) or "command" (a program and its arguments)'],
    ],
    [
      'both',
      { image: 'x', run: 'y', command: ['z'] },
      ['jobs.a: has both "run" and "command": give one of them'],
    ],
    [
      'args without command',
      { image: 'x', run: 'y', args: ['z'] },
      ['jobs.a.args: needs "command" (the program the arguments are for)'],
    ],
    [
      'an empty command',
      { image: 'x', command: [] },
      ['jobs.a.command: must have at least 1 item'],
    ],
    ['an empty program', { image: 'x', command: [''] }, ['jobs.a.command[0]: must not be empty']],
    [
      'a command that is a string',
      { image: 'x', command: 'ls -l' },
      ['jobs.a.command: must be an array'],
    ],
  ])('refuses %s, saying where and what to write', (_what, job, expected) => {
    expect(errors(validatePipeline(withJobs({ a: job })))).toEqual(expected);
  });
});
