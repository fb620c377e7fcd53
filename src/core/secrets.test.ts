import { describe, expect, it } from 'vitest';
import { planRun } from './plan.ts';
import { SecretMask } from './secret-mask.ts';
import { errors, job, withJobs } from './testing.fixture.ts';
import type { Pipeline } from './types.ts';
import { validatePipeline } from './validate.ts';

const secret = (name: string, key: string) => ({ secret: { name, key } });

describe('env values from secrets', () => {
  it('accepts a secret reference beside plain values', () => {
    const value = withJobs({ a: job({ env: { PLAIN: 'x', TOKEN: secret('db', 'password') } }) });
    expect(errors(validatePipeline(value))).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    [
      'a number',
      3,
      'jobs.a.env.TOKEN: must be a string or a secret reference ({secret: {name, key}})',
    ],
    ['no key', { secret: { name: 'db' } }, 'jobs.a.env.TOKEN.secret.key: is required'],
    [
      'another field',
      { secret: secret('db', 'k').secret, from: 1 },
      'jobs.a.env.TOKEN: unknown field "from"',
    ],
    [
      'a name that is not a DNS name',
      secret('../etc', 'k'),
      "jobs.a.env.TOKEN.secret.name: must be a DNS name (lowercase letters, digits, '-' and '.')",
    ],
    [
      'a key that climbs out',
      secret('db', '..'),
      "jobs.a.env.TOKEN.secret.key: must be a secret key (letters, digits, '-', '_' and '.', not '.' nor starting with '..')",
    ],
    [
      'a key with a slash',
      secret('db', 'a/b'),
      "jobs.a.env.TOKEN.secret.key: must be a secret key (letters, digits, '-', '_' and '.', not '.' nor starting with '..')",
    ],
  ])('refuses %s, saying where', (_what, value, message) => {
    expect(errors(validatePipeline(withJobs({ a: job({ env: { TOKEN: value } }) })))).toEqual([
      message,
    ]);
  });

  it('plans secret variables apart from the values written in the pipeline, matrix instances included', () => {
    const pipeline = withJobs({
      a: job({ env: { PLAIN: '${{ params.p }}', TOKEN: secret('db', 'password') } }),
      m: job({ matrix: { os: ['linux'] }, env: { KEY: secret('api', 'key') } }),
    }) as unknown as Pipeline;
    pipeline.params = { p: { default: 'v' } };
    const plan = planRun(pipeline, { p: 'v' }, { defaultExecutor: 'local' });
    expect(plan.jobs.a?.env).toEqual({ CHAINR_PARAM_P: 'v', PLAIN: 'v' });
    expect(plan.jobs.a?.secrets).toEqual({ TOKEN: { name: 'db', key: 'password' } });
    expect(plan.jobs['m-linux']?.secrets).toEqual({ KEY: { name: 'api', key: 'key' } });
    expect(plan.jobs['m-linux']?.env).not.toHaveProperty('KEY');
  });
});

describe('SecretMask', () => {
  it('masks every occurrence, a longer value before one it contains', () => {
    const mask = new SecretMask(['hunter2', 'hunter2-extra']);
    expect(mask.apply('a hunter2 b hunter2-extra c')).toBe('a *** b *** c');
  });

  it('masks each line of a multi-line value wherever it appears, CRLF or LF', () => {
    const mask = new SecretMask(['-----BEGIN KEY-----\r\nMIIBOgIBAAJBAK\n\nend-of-key']);
    expect(mask.apply('MIIBOgIBAAJBAK')).toBe('***');
    expect(mask.apply('key: end-of-key.')).toBe('key: ***.');
    expect(mask.apply('no secret here')).toBe('no secret here');
  });

  it('masks the start of a value at the end of a cut line, and only of a cut line', () => {
    const mask = new SecretMask(['s3cr3t-value']);
    expect(mask.apply('prefix s3cr3t-va', true)).toBe('prefix ***');
    expect(mask.apply('prefix s3cr3t-va', false)).toBe('prefix s3cr3t-va');
    expect(mask.apply('prefix nothing', true)).toBe('prefix nothing');
  });

  it('is empty without values (nothing to mask)', () => {
    expect(new SecretMask(['', '\n']).empty).toBe(true);
  });
});
