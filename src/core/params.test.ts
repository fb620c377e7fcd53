import { describe, expect, it } from 'vitest';
import { formatPath } from './issues.ts';
import { applyParams, paramEnvName, paramIssues, resolveParams } from './params.ts';
import type { JobSpec, Pipeline } from './types.ts';

const withParams = (params: Pipeline['params'], jobs: Pipeline['jobs'] = {}): Pipeline => ({
  kind: 'Pipeline',
  params,
  jobs: { a: { image: 'busybox', run: 'true' }, ...jobs },
});

/** Issues as `path: message`. */
const issues = (value: unknown) =>
  paramIssues(value).map((i) => `${formatPath(i.path)}: ${i.message}`);

describe('paramIssues', () => {
  it('accepts references to declared parameters, with or without spaces in the braces', () => {
    const value = withParams(
      { tag: {}, who: { default: 'me' } },
      {
        b: {
          image: 'app:${{ params.tag }}',
          run: 'echo "$CHAINR_PARAM_WHO"',
          env: { WHO: '${{params.who}}', TAG: '${{   params.tag   }}' },
        },
      },
    );
    expect(issues(value)).toEqual([]);
  });

  it('names every undeclared reference in image and env, by path', () => {
    const value = withParams(
      { tag: {} },
      {
        b: {
          image: 'app:${{ params.version }}',
          run: 'true',
          env: { X: 'x-${{ params.missing }}', Y: '${{ params.tag }}' },
        },
      },
    );
    expect(issues(value)).toEqual([
      'jobs.b.image: unknown parameter "version": declare it under params',
      'jobs.b.env.X: unknown parameter "missing": declare it under params',
    ]);
  });

  it('refuses references in run, once per parameter, naming the variable to use instead', () => {
    const value = withParams(
      { tag: {} },
      { b: { image: 'x', run: 'echo ${{ params.tag }} ${{params.nope}}; echo ${{ params.tag }}' } },
    );
    expect(issues(value)).toEqual([
      'jobs.b.run: ${{ params.tag }} is not substituted in run: parameters reach scripts as environment variables, write "$CHAINR_PARAM_TAG"',
      'jobs.b.run: ${{ params.nope }} is not substituted in run: parameters reach scripts as environment variables, write "$CHAINR_PARAM_NOPE"',
    ]);
  });

  it('treats every reference as undeclared when the pipeline declares no params', () => {
    expect(
      issues({ kind: 'Pipeline', jobs: { a: { image: 'x:${{ params.a }}', run: 'true' } } }),
    ).toEqual(['jobs.a.image: unknown parameter "a": declare it under params']);
  });

  it('does not reach into the prototype for a declaration', () => {
    const value = withParams(
      {},
      { b: { image: 'x', run: 'true', env: { C: '${{ params.constructor }}' } } },
    );
    expect(issues(value)).toEqual([
      'jobs.b.env.C: unknown parameter "constructor": declare it under params',
    ]);
  });

  it('ignores text that is not a reference, and values that are not pipelines', () => {
    const value = withParams(
      {},
      { b: { image: 'x', run: 'echo ${{ env.HOME }} ${ params.x } $params_x ${{ params.1x }}' } },
    );
    expect(issues(value)).toEqual([]);
    expect(paramIssues(null)).toEqual([]);
    expect(paramIssues({ jobs: [] })).toEqual([]);
    expect(paramIssues({ jobs: { a: 'x', b: { run: 1, env: 'y' } } })).toEqual([]);
  });
});

describe('resolveParams', () => {
  const pipeline = withParams({ message: {}, greeting: { default: 'hi' }, empty: { default: '' } });

  it('uses defaults for parameters not given, and the given values for the rest', () => {
    expect(resolveParams(pipeline, { message: 'm' })).toEqual({
      ok: true,
      values: { message: 'm', greeting: 'hi', empty: '' },
    });
    expect(resolveParams(pipeline, { message: '', greeting: 'hello', empty: 'x' })).toEqual({
      ok: true,
      values: { message: '', greeting: 'hello', empty: 'x' },
    });
  });

  it('answers no values for a pipeline without params', () => {
    const none = withParams(undefined);
    expect(resolveParams(none, undefined)).toEqual({ ok: true, values: {} });
    expect(resolveParams(none, {})).toEqual({ ok: true, values: {} });
  });

  it('requires a parameter without default', () => {
    expect(resolveParams(pipeline, undefined)).toEqual({
      ok: false,
      errors: [{ path: 'params.message', message: 'is required (it has no default)' }],
    });
    expect(resolveParams(pipeline, { greeting: 'x' })).toEqual({
      ok: false,
      errors: [{ path: 'params.message', message: 'is required (it has no default)' }],
    });
  });

  it('rejects an unknown parameter, naming the declared ones', () => {
    expect(resolveParams(pipeline, { message: 'm', mesage: 'typo' })).toEqual({
      ok: false,
      errors: [
        {
          path: 'params.mesage',
          message: 'unknown parameter (the pipeline declares message, greeting, empty)',
        },
      ],
    });
    expect(resolveParams(withParams(undefined), { x: '1' })).toEqual({
      ok: false,
      errors: [{ path: 'params.x', message: 'unknown parameter (the pipeline declares none)' }],
    });
  });

  it('rejects values that are not strings, and params that are not an object', () => {
    expect(resolveParams(pipeline, { message: 1, greeting: null })).toEqual({
      ok: false,
      errors: [
        { path: 'params.message', message: 'must be a string' },
        { path: 'params.greeting', message: 'must be a string' },
      ],
    });
    for (const given of [[], 'message=x', null, 3]) {
      expect(resolveParams(pipeline, given)).toEqual({
        ok: false,
        errors: [{ path: 'params', message: 'must be an object of strings' }],
      });
    }
  });

  it('reports every problem at once', () => {
    const result = resolveParams(pipeline, { nope: 'x', greeting: 2 });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.errors.map((e) => e.path)).toEqual([
      'params.nope',
      'params.greeting',
      'params.message',
    ]);
  });

  it('does not take a declaration from the prototype', () => {
    expect(resolveParams(pipeline, { message: 'm', toString: 'x' }).ok).toBe(false);
  });
});

describe('applyParams', () => {
  const spec: JobSpec = {
    image: 'registry/app:${{ params.tag }}',
    run: 'echo "$CHAINR_PARAM_MESSAGE"; printf %s "$CHAINR_PARAM_TAG" > out',
    env: {
      TAG: 'v-${{ params.tag }}',
      PLAIN: 'plain',
      TWICE: '${{ params.tag }}${{ params.tag }}',
    },
  };
  const values = { message: `it's "x"; $(id) \`id\`\nline 2`, tag: '1.2' };

  it('leaves run as written: values reach it only as variables', () => {
    const job = applyParams(spec, values);
    expect(job.run).toBe(spec.run);
    expect(job.env).toMatchObject({ CHAINR_PARAM_MESSAGE: values.message });
  });

  it('inserts values literally into image and env values', () => {
    const job = applyParams(spec, values);
    expect(job.image).toBe('registry/app:1.2');
    expect(job.env).toMatchObject({ TAG: 'v-1.2', PLAIN: 'plain', TWICE: '1.21.2' });
  });

  it('gives the job every parameter as CHAINR_PARAM_<NAME>', () => {
    const job = applyParams({ image: 'x', run: 'true' }, { message: 'm', lower_case: 'l' });
    expect(job.env).toEqual({ CHAINR_PARAM_MESSAGE: 'm', CHAINR_PARAM_LOWER_CASE: 'l' });
    expect(paramEnvName('camelCase')).toBe('CHAINR_PARAM_CAMELCASE');
  });

  it('leaves a job without references unchanged', () => {
    const job = applyParams({ image: 'busybox', run: 'echo $HOME ${X}' }, {});
    expect(job).toEqual({ image: 'busybox', run: 'echo $HOME ${X}', env: {} });
  });
});

describe('a program and its arguments (command and args)', () => {
  const spec: JobSpec = {
    image: 'registry/migrate',
    command: ['/app/migrate', '--to=${{ params.tag }}'],
    args: ['${{ params.message }}', '$HOME'],
  };

  it('joins command and args into one argv, with parameters replaced by their values as they are', () => {
    const values = { message: `it's "x"; $(id)`, tag: '1.2' };
    expect(applyParams(spec, values)).toEqual({
      image: 'registry/migrate',
      argv: ['/app/migrate', '--to=1.2', `it's "x"; $(id)`, '$HOME'],
      env: { CHAINR_PARAM_MESSAGE: values.message, CHAINR_PARAM_TAG: '1.2' },
    });
  });

  it('names an undeclared reference in command or args by its path', () => {
    const pipeline = withParams({ tag: {} }, { m: spec });
    expect(issues(pipeline)).toEqual([
      'jobs.m.args[0]: unknown parameter "message": declare it under params',
    ]);
  });
});
