/** Validation of the pipeline fields of issue 3: valid examples, and errors by path in words. */
import { describe, expect, it } from 'vitest';
import { errors, job, located, withJobs } from './testing.fixture.ts';
import { parsePipeline, validatePipeline } from './validate.ts';

const FULL = {
  kind: 'Pipeline',
  metadata: { name: 'nightly etl', labels: { app: 'etl', 'chainr.io/tier': 'prod' } },
  params: {
    message: { description: 'What to say' },
    greeting: { default: 'hi', description: 'How to say it' },
    Empty_1: { default: '' },
  },
  concurrency: 2,
  jobs: {
    build: {
      image: 'registry/app:${{ params.greeting }}',
      run: 'echo "$CHAINR_PARAM_MESSAGE" && echo "version=1" > "$CHAINR_OUTPUTS"',
      env: { GREETING: '${{ params.greeting }}', _X9: '', PLAIN: 'value' },
      timeout: '1h30m',
      retries: {
        limit: 3,
        backoff: { type: 'exponential', delay: '250ms', maxDelay: '10s' },
      },
      resources: {
        requests: { cpu: '500m', memory: '64Mi' },
        limits: { cpu: '2', memory: '1.5Gi' },
      },
      executor: 'local',
    },
    deploy: {
      image: 'kubectl',
      run: 'deploy',
      dependsOn: [{ job: 'build' }],
      executor: 'kubernetes',
      timeout: '90s',
      retries: { limit: 0 },
      resources: { limits: { cpu: '0.25', memory: '500M' } },
      kubernetes: {
        serviceAccountName: 'deployer',
        nodeSelector: { pool: 'batch' },
        tolerations: [{ key: 'batch', operator: 'Equal', value: 'yes', effect: 'NoSchedule' }],
        imagePullSecrets: ['regcred'],
      },
    },
    fallback: {
      image: 'busybox',
      run: 'true',
      dependsOn: [{ job: 'build', conditions: { failure: true } }],
      retries: { limit: 1, backoff: { type: 'fixed', delay: '15m' } },
    },
    cleanup: {
      image: 'busybox',
      run: 'true',
      dependsOn: [
        { job: 'deploy', conditions: { always: true } },
        { job: 'fallback', conditions: { always: true, failure: false } },
      ],
      executor: 'noop',
    },
    other: { image: 'busybox', run: 'true', executor: 'container', timeout: '250ms' },
  },
};

describe('the fields of issue 3: valid pipelines', () => {
  it('accepts a pipeline using every new field', () => {
    expect(errors(validatePipeline(FULL))).toEqual([]);
  });

  it('accepts it as YAML too', () => {
    const yaml = `kind: Pipeline
metadata: {name: etl, labels: {app: etl}}
params:
  tag: {default: latest}
concurrency: 1
jobs:
  a:
    image: app:\${{ params.tag }}
    run: echo "$CHAINR_PARAM_TAG"
    env: {TAG: "\${{ params.tag }}"}
    timeout: 15m
    retries: {limit: 2, backoff: {type: exponential, delay: 1s, maxDelay: 1h}}
    resources: {requests: {cpu: 100m, memory: 1Gi}}
`;
    expect(located(parsePipeline(yaml, 'yaml'))).toEqual([]);
  });

  it.each(['90s', '15m', '1h', '1h30m', '250ms', '1m30s'])('accepts the duration %s', (d) => {
    expect(errors(validatePipeline(withJobs({ a: job({ timeout: d }) })))).toEqual([]);
  });

  it.each(['1', '0.5', '500m', '2.5', '1000m'])('accepts the CPU quantity %s', (cpu) => {
    const value = withJobs({ a: job({ resources: { requests: { cpu }, limits: { cpu } } }) });
    expect(errors(validatePipeline(value))).toEqual([]);
  });

  it.each(['64Mi', '1Gi', '500M', '1.5Gi', '1024', '1k', '2Ti'])(
    'accepts the memory quantity %s',
    (memory) => {
      const value = withJobs({ a: job({ resources: { requests: { memory } } }) });
      expect(errors(validatePipeline(value))).toEqual([]);
    },
  );

  it('accepts a submission {pipeline, params}, returning both', () => {
    const pipeline = {
      ...withJobs({ a: job({ env: { M: '${{ params.m }}' } }) }),
      params: { m: {} },
    };
    const result = parsePipeline(JSON.stringify({ pipeline, params: { m: 'x' } }), 'json', {
      submission: true,
    });
    expect(result).toMatchObject({ ok: true, pipeline, params: { m: 'x' } });
    const bare = parsePipeline(JSON.stringify({ pipeline }), 'json', { submission: true });
    expect(bare.ok).toBe(true);
  });
});

describe('the fields of issue 3: errors by path, in words', () => {
  const a = (extra: Record<string, unknown>) => withJobs({ a: job(extra) });
  it.each<[string, unknown, string[]]>([
    [
      'a duration in words',
      a({ timeout: '10 minutes' }),
      ['jobs.a.timeout: must be a duration such as "90s", "15m" or "1h30m"'],
    ],
    [
      'a duration without unit',
      a({ timeout: '600' }),
      ['jobs.a.timeout: must be a duration such as "90s", "15m" or "1h30m"'],
    ],
    [
      'a duration in days',
      a({ timeout: '1d' }),
      ['jobs.a.timeout: must be a duration such as "90s", "15m" or "1h30m"'],
    ],
    ['a timeout as a number', a({ timeout: 60 }), ['jobs.a.timeout: must be a string']],
    [
      'a bad backoff delay',
      a({ retries: { limit: 1, backoff: { delay: '1.5s', maxDelay: 'forever' } } }),
      [
        'jobs.a.retries.backoff.delay: must be a duration such as "90s", "15m" or "1h30m"',
        'jobs.a.retries.backoff.maxDelay: must be a duration such as "90s", "15m" or "1h30m"',
      ],
    ],
    [
      'a bad cpu quantity',
      a({ resources: { requests: { cpu: '2 cores' } } }),
      ['jobs.a.resources.requests.cpu: must be a CPU quantity such as "500m", "0.5" or "2"'],
    ],
    [
      'a cpu quantity with a memory suffix',
      a({ resources: { limits: { cpu: '1Gi' } } }),
      ['jobs.a.resources.limits.cpu: must be a CPU quantity such as "500m", "0.5" or "2"'],
    ],
    [
      'a bad memory quantity',
      a({ resources: { limits: { memory: '1GB' } } }),
      ['jobs.a.resources.limits.memory: must be a memory quantity such as "64Mi" or "1Gi"'],
    ],
    [
      'a memory quantity as a number',
      a({ resources: { requests: { memory: 64 } } }),
      ['jobs.a.resources.requests.memory: must be a string'],
    ],
    [
      'an unknown resource',
      a({ resources: { requests: { gpu: '1' } } }),
      ['jobs.a.resources.requests: unknown field "gpu"'],
    ],
    [
      'an unknown executor',
      a({ executor: 'docker' }),
      ['jobs.a.executor: must be one of "local", "kubernetes", "container", "noop"'],
    ],
    [
      'retries.limit -1',
      a({ retries: { limit: -1 } }),
      ['jobs.a.retries.limit: must be at least 0'],
    ],
    [
      'retries.limit too large',
      a({ retries: { limit: 101 } }),
      ['jobs.a.retries.limit: must be at most 100'],
    ],
    [
      'retries.limit not an integer',
      a({ retries: { limit: 1.5 } }),
      ['jobs.a.retries.limit: must be an integer'],
    ],
    ['retries without limit', a({ retries: {} }), ['jobs.a.retries.limit: is required']],
    [
      'an unknown backoff type',
      a({ retries: { limit: 1, backoff: { type: 'linear' } } }),
      ['jobs.a.retries.backoff.type: must be one of "fixed", "exponential"'],
    ],
    [
      'an env name that is not an identifier',
      a({ env: { 'MY-VAR': 'x' } }),
      [
        `jobs.a.env.MY-VAR: name "MY-VAR" must be letters, digits and '_', not starting with a digit`,
      ],
    ],
    [
      'an env value neither a string nor a secret',
      a({ env: { N: 1 } }),
      ['jobs.a.env.N: must be a string or a secret reference ({secret: {name, key}})'],
    ],
    [
      'always not a boolean',
      withJobs({ a: job(), b: job({ dependsOn: [{ job: 'a', conditions: { always: 'yes' } }] }) }),
      ['jobs.b.dependsOn[0].conditions.always: must be a boolean (true or false)'],
    ],
    [
      'a param reference in run',
      a({ run: 'echo ${{ params.nope }}' }),
      [
        'jobs.a.run: ${{ params.nope }} is not substituted in run: parameters reach scripts as environment variables, write "$CHAINR_PARAM_NOPE"',
      ],
    ],
    [
      'an unknown param reference in image and env',
      {
        ...a({ image: 'x:${{ params.tag }}', env: { T: '${{ params.tags }}' } }),
        params: { tag2: {} },
      },
      [
        'jobs.a.env.T: unknown parameter "tags": declare it under params',
        'jobs.a.image: unknown parameter "tag": declare it under params',
      ],
    ],
    [
      'a param name that is not an identifier',
      { ...a({}), params: { 'my-param': {} } },
      [
        `params.my-param: name "my-param" must be letters, digits and '_', not starting with a digit`,
      ],
    ],
    [
      'a param default not a string',
      { ...a({}), params: { n: { default: 3 } } },
      ['params.n.default: must be a string'],
    ],
    [
      'a param with an unknown field',
      { ...a({}), params: { n: { required: true } } },
      ['params.n: unknown field "required"'],
    ],
    ['concurrency 0', { ...a({}), concurrency: 0 }, ['concurrency: must be at least 1']],
    [
      'concurrency not an integer',
      { ...a({}), concurrency: '2' },
      ['concurrency: must be an integer'],
    ],
  ])('%s', (_name, value, expected) => {
    expect(errors(validatePipeline(value))).toEqual(expected);
  });

  it('locates a bad duration in YAML by line and column', () => {
    const yaml =
      'kind: Pipeline\njobs:\n  a:\n    image: x\n    run: "true"\n    timeout: 10 minutes\n';
    expect(located(parsePipeline(yaml, 'yaml'))).toEqual([
      '6:14 jobs.a.timeout: must be a duration such as "90s", "15m" or "1h30m"',
    ]);
  });
});

describe('submissions {pipeline, params}', () => {
  const pipeline = withJobs({ a: job() });
  const submit = (value: unknown) =>
    parsePipeline(JSON.stringify(value), 'json', { submission: true });

  it('rejects an unknown wrapper key, pointing at it', () => {
    const result = submit({ pipeline, params: {}, parms: { x: '1' } });
    expect(result.ok).toBe(false);
    const list = result.ok ? [] : result.errors;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ path: '', line: 1 });
    expect(list[0]?.message).toMatch(/^unknown field "parms"/);
    expect(list[0]?.column).toBe(JSON.stringify({ pipeline, params: {} }).length + 1);
  });

  it('reports errors of the pipeline under "pipeline."', () => {
    expect(errors(submit({ pipeline: withJobs({ a: job({ timeout: '10 minutes' }) }) }))).toEqual([
      'pipeline.jobs.a.timeout: must be a duration such as "90s", "15m" or "1h30m"',
    ]);
    expect(
      errors(submit({ pipeline: withJobs({ a: job({ image: 'x:${{ params.x }}' }) }) })),
    ).toEqual(['pipeline.jobs.a.image: unknown parameter "x": declare it under params']);
  });

  it('rejects params that are not an object of strings', () => {
    expect(errors(submit({ pipeline, params: { x: 1 } }))).toEqual([
      'params: must be an object of strings',
    ]);
    expect(errors(submit({ pipeline, params: ['x'] }))).toEqual([
      'params: must be an object of strings',
    ]);
  });

  it('reads a bare pipeline as a pipeline, without params', () => {
    const result = submit(pipeline);
    expect(result).toMatchObject({ ok: true, pipeline });
    expect(result.ok && result.params).toBeUndefined();
  });

  it('without the submission option, a wrapper is not a pipeline', () => {
    expect(errors(validatePipeline({ pipeline, params: {} }))).toEqual([
      'unknown field "pipeline"',
      'jobs: is required',
      'kind: is required',
    ]);
  });
});
