import { describe, expect, it } from 'vitest';
import { parsePipeline } from './parse.ts';
import {
  applyOutputRefs,
  MAX_OUTPUTS_BYTES,
  outputEnvName,
  outputRefIssues,
  outputsEnv,
  parseOutputs,
} from './outputs.ts';

describe('parseOutputs', () => {
  it('reads key=value lines', () => {
    expect(parseOutputs('version=1.2.3\nimage_tag=abc\n')).toEqual({
      ok: true,
      outputs: { version: '1.2.3', image_tag: 'abc' },
    });
  });

  it('keeps everything after the first "=" as the value, spaces included', () => {
    expect(parseOutputs('tag=x=y\nurl=http://h/?a=1&b=2\nempty=\nsp= a b ')).toEqual({
      ok: true,
      outputs: { tag: 'x=y', url: 'http://h/?a=1&b=2', empty: '', sp: ' a b ' },
    });
  });

  it('ignores blank lines, and reads CRLF line ends', () => {
    expect(parseOutputs('\n\na=1\r\n   \r\n\tb=2\r\n'.replace('\tb', 'b'))).toEqual({
      ok: true,
      outputs: { a: '1', b: '2' },
    });
    expect(parseOutputs('')).toEqual({ ok: true, outputs: {} });
  });

  it('keeps the last value of a key written twice', () => {
    expect(parseOutputs('a=1\na=2')).toEqual({ ok: true, outputs: { a: '2' } });
  });

  it.each([
    ['a line without "="', 'a=1\njust text\n', 2, 'just text'],
    ['an empty key', '=value', 1, '=value'],
    ['a key with a dash', 'image-tag=1', 1, 'image-tag=1'],
    ['a key with a dot', 'image.tag=1', 1, 'image.tag=1'],
    ['a key starting with a digit', '1a=1', 1, '1a=1'],
    ['a key with a space', 'a b=1', 1, 'a b=1'],
  ])('rejects %s, naming the line', (_what, text, line, shown) => {
    const result = parseOutputs(text);
    expect(result).toEqual({
      ok: false,
      error: `outputs line ${line} is not key=value with a key of letters, digits and '_': ${JSON.stringify(shown)}`,
    });
  });

  it('accepts exactly 4 KiB and rejects more, counting bytes not characters', () => {
    const exact = `k=${'x'.repeat(MAX_OUTPUTS_BYTES - 2)}`;
    expect(MAX_OUTPUTS_BYTES).toBe(4096);
    expect(parseOutputs(exact).ok).toBe(true);
    expect(parseOutputs(`${exact}\n`)).toEqual({
      ok: false,
      error: 'outputs are 4097 bytes, more than the limit of 4096',
    });
    // 2100 two-byte characters: 4202 bytes in 2102 characters.
    const wide = `k=${'é'.repeat(2100)}`;
    expect(parseOutputs(wide)).toEqual({
      ok: false,
      error: 'outputs are 4202 bytes, more than the limit of 4096',
    });
  });
});

describe('outputEnvName', () => {
  it('upper-cases job and key and replaces every other character by "_"', () => {
    expect(outputEnvName('build', 'version')).toBe('CHAINR_BUILD_VERSION');
    expect(outputEnvName('build', 'image_tag')).toBe('CHAINR_BUILD_IMAGE_TAG');
    expect(outputEnvName('build-app', 'image.tag')).toBe('CHAINR_BUILD_APP_IMAGE_TAG');
    expect(outputEnvName('build-app', 'image_tag')).toBe('CHAINR_BUILD_APP_IMAGE_TAG');
    expect(outputEnvName('1st', 'camelCase')).toBe('CHAINR_1ST_CAMELCASE');
  });

  it('gives a job the outputs of its dependencies as variables', () => {
    expect(
      outputsEnv({ build: { version: '1.2.3', image_tag: 'x=y' }, 'lint-go': { ok: 'yes' } }),
    ).toEqual({
      CHAINR_BUILD_VERSION: '1.2.3',
      CHAINR_BUILD_IMAGE_TAG: 'x=y',
      CHAINR_LINT_GO_OK: 'yes',
    });
    expect(outputsEnv({})).toEqual({});
  });
});

describe('output references', () => {
  const job = (extra: object = {}) => ({ image: 'busybox', run: 'true', ...extra });
  const fanIn = {
    kind: 'Pipeline',
    jobs: {
      a: job(),
      b: job(),
      merge: job({ dependsOn: [{ job: 'a' }, { job: 'b' }] }),
      load: job({ dependsOn: [{ job: 'merge' }] }),
      cleanup: job({
        dependsOn: [{ job: 'load', conditions: { always: true } }],
        image: 'busybox:${{ jobs.a.outputs.tag }}',
        env: { ROWS: 'rows=${{ jobs.b.outputs.rows }}', SAME: '${{jobs.load.outputs.x}}' },
      }),
    },
  };

  it('accepts references to any ancestor, in image and env values', () => {
    expect(outputRefIssues(fanIn)).toEqual([]);
  });

  it('checks references in command and args as in env values', () => {
    const pipeline = {
      kind: 'Pipeline',
      jobs: {
        a: job(),
        b: {
          image: 'x',
          dependsOn: [{ job: 'a' }],
          command: ['/deploy', '--tag=${{ jobs.a.outputs.tag }}'],
          args: ['${{ jobs.c.outputs.k }}'],
        },
        c: job(),
      },
    };
    expect(outputRefIssues(pipeline)).toEqual([
      {
        path: ['jobs', 'b', 'args', 0],
        message:
          'job "c" is not an ancestor of "b": a job reads the outputs of the jobs it depends on, directly or through others',
      },
    ]);
  });

  it('refuses a job that is not an ancestor, an unknown job, and any reference in run', () => {
    const pipeline = {
      kind: 'Pipeline',
      jobs: {
        a: job({ env: { X: '${{ jobs.b.outputs.k }}' } }),
        b: job({ dependsOn: [{ job: 'a' }], env: { Y: '${{ jobs.nope.outputs.k }}' } }),
        c: job({
          dependsOn: [{ job: 'b' }],
          run: 'echo ${{ jobs.a.outputs.build-id }}${{ jobs.a.outputs.id }}',
        }),
      },
    };
    expect(outputRefIssues(pipeline)).toEqual([
      {
        path: ['jobs', 'a', 'env', 'X'],
        message:
          'job "b" is not an ancestor of "a": a job reads the outputs of the jobs it depends on, directly or through others',
      },
      {
        path: ['jobs', 'b', 'env', 'Y'],
        message:
          'unknown job "nope": a job reads the outputs of the jobs it depends on, directly or through others',
      },
      {
        path: ['jobs', 'c', 'run'],
        message:
          '${{ jobs.a.outputs.id }} is not substituted in run: outputs reach scripts as environment variables, write "$CHAINR_A_ID"',
      },
    ]);
  });

  it('stops on a cycle (reported by the graph checks) instead of looping', () => {
    const cyclic = {
      kind: 'Pipeline',
      jobs: {
        a: job({ dependsOn: [{ job: 'b' }], env: { X: '${{ jobs.c.outputs.k }}' } }),
        b: job({ dependsOn: [{ job: 'a' }] }),
        c: job(),
      },
    };
    expect(outputRefIssues(cyclic).map((i) => i.path)).toEqual([['jobs', 'a', 'env', 'X']]);
  });

  it('are located at their line and column in the source text', () => {
    const text = `kind: Pipeline
jobs:
  extract: { image: busybox, run: 'true' }
  report:
    image: busybox
    run: 'true'
    env:
      ROWS: \${{ jobs.load.outputs.rows }}
  load: { image: busybox, run: 'true', dependsOn: [{ job: extract }] }
`;
    const result = parsePipeline(text, 'yaml');
    expect(result.ok ? [] : result.errors).toEqual([
      {
        path: 'jobs.report.env.ROWS',
        message:
          'job "load" is not an ancestor of "report": a job reads the outputs of the jobs it depends on, directly or through others',
        line: 8,
        column: 13,
      },
    ]);
  });

  it('are replaced by the output, or by nothing when the ancestor did not write that key', () => {
    const byJob = { a: { tag: '1.2', rows: '7' } };
    expect(applyOutputRefs('v${{ jobs.a.outputs.tag }}-${{jobs.a.outputs.rows}}', byJob)).toBe(
      'v1.2-7',
    );
    expect(applyOutputRefs('[${{ jobs.a.outputs.none }}${{ jobs.b.outputs.tag }}]', byJob)).toBe(
      '[]',
    );
    expect(applyOutputRefs('${{ jobs.a.outputs.constructor }}', byJob)).toBe('');
  });
});
