import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Document, isScalar, parse, visit } from 'yaml';
import { FALLBACK_YAML, SEED_EXAMPLE } from './examples.fixture.ts';
import { located, only } from './testing.fixture.ts';
import { parsePipeline, validatePipeline } from './validate.ts';
import { readYaml } from './yaml-read.ts';

/** The YAML text of a value, its `<<` keys quoted: a plain `<<` is YAML's merge key. */
function yamlText(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === '<<') pair.key.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString();
}

describe('parsePipeline: valid documents', () => {
  it('accepts the seed example, as JSON and as YAML (JSON is YAML 1.2)', () => {
    expect(parsePipeline(SEED_EXAMPLE, 'json')).toEqual({
      ok: true,
      pipeline: JSON.parse(SEED_EXAMPLE) as unknown,
    });
    expect(parsePipeline(SEED_EXAMPLE, 'yaml')).toEqual({
      ok: true,
      pipeline: JSON.parse(SEED_EXAMPLE) as unknown,
    });
    expect(parsePipeline(`\uFEFF${SEED_EXAMPLE}`, 'json').ok).toBe(true);
  });
  it('accepts examples/fallback.yaml', () => {
    const result = parsePipeline(FALLBACK_YAML, 'yaml');
    expect(result.ok).toBe(true);
    if (result.ok)
      expect(result.pipeline.jobs['restore']?.dependsOn).toEqual([
        { job: 'load', conditions: { failure: true } },
      ]);
  });
  it('accepts anchors, aliases and merge keys in moderation', () => {
    const text = `kind: Pipeline
jobs:
  a: &base { image: busybox, run: "true" }
  b:
    <<: *base
    dependsOn: [{ job: a }]
`;
    const result = parsePipeline(text, 'yaml');
    expect(result.ok && result.pipeline.jobs['b']).toEqual({
      image: 'busybox',
      run: 'true',
      dependsOn: [{ job: 'a' }],
    });
  });
  it('passes maxJobs on', () => {
    expect(
      located(
        parsePipeline(
          '{"kind":"Pipeline","jobs":{"a":{"image":"x","run":""},"b":{"image":"x","run":""}}}',
          'json',
          { maxJobs: 1 },
        ),
      ),
    ).toEqual(['1:20 jobs: 2 jobs exceed the limit of 1']);
  });
});

describe('parsePipeline: validation errors located in YAML', () => {
  it('puts an unknown dependency at its line and column', () => {
    const text = `kind: Pipeline
jobs:
  first:
    image: busybox
    run: exit 0
  error:
    image: busybox
    run: exit 0
    dependsOn:
      - job: frist
        conditions:
          failure: true
`;
    expect(only(parsePipeline(text, 'yaml'))).toEqual({
      path: 'jobs.error.dependsOn[0].job',
      message: 'unknown job "frist" (did you mean "first"?)',
      line: 10,
      column: 14,
    });
  });
  it('locates several errors: values, keys of unknown fields, closest parents of missing fields', () => {
    const text = `kind: Pipelines
jobs:
  build:
    imgae: node:20
    run: [npm, test]
  Deploy:
    image: x
    run: y
    dependsOn:
      - { job: build, conditions: { failure: yes } }
`;
    expect(located(parsePipeline(text, 'yaml'))).toEqual([
      `6:3 jobs.Deploy: job name "Deploy" must be a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)`,
      '10:46 jobs.Deploy.dependsOn[0].conditions.failure: must be a boolean (true or false)',
      '4:5 jobs.build: unknown field "imgae"',
      '3:3 jobs.build.image: is required',
      '5:5 jobs.build.run: must be a string',
      '1:7 kind: must be "Pipeline"',
    ]);
  });
  it('locates a missing top-level field at the start of the document', () => {
    expect(located(parsePipeline('# comment\nkind: Pipeline\n', 'yaml'))).toEqual([
      '2:1 jobs: is required',
    ]);
  });
});

describe('parsePipeline: validation errors located in JSON', () => {
  it('puts an unknown dependency at its line and column', () => {
    const text = SEED_EXAMPLE.replace('"job": "first",', '"job": "frist",');
    expect(only(parsePipeline(text, 'json'))).toEqual({
      path: 'jobs.error.dependsOn[0].job',
      message: 'unknown job "frist" (did you mean "first"?)',
      line: 24,
      column: 16,
    });
  });
  it('gives every error a position', () => {
    const text =
      '{\n"kind": "x",\n"jobs": {"a b": {"run": 1, "x": 2}, "c": {"image": "i", "run": "r", "dependsOn": [{"job": "c"}]}}\n}';
    expect(located(parsePipeline(text, 'json'))).toEqual([
      '3:28 jobs["a b"]: unknown field "x"',
      '3:10 jobs["a b"]: job name "a b" must be a DNS-1123 label (lowercase letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters)',
      '3:10 jobs["a b"].image: is required',
      '3:25 jobs["a b"].run: must be a string',
      '3:91 jobs.c.dependsOn[0].job: job "c" depends on itself',
      '2:9 kind: must be "Pipeline"',
    ]);
  });
});

describe('parsePipeline: ${{ }} unquoted in a flow mapping', () => {
  const pipeline = (job: string) =>
    `kind: Pipeline\nparams: { tag: { default: '1' } }\njobs:\n  a: ${job}\n`;

  it("is one error at the value, saying to quote it, instead of the parser's five", () => {
    const result = parsePipeline(
      pipeline('{ image: busybox:${{ params.tag }}, run: echo }'),
      'yaml',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors).toEqual([
      {
        path: '',
        message:
          'invalid YAML: ${{ ... }} unquoted inside { } or [ ] is read as YAML braces; quote this value: "busybox:${{ params.tag }}"',
        line: 4,
        column: 15,
      },
    ]);
  });

  it('is left alone quoted, and in a block mapping', () => {
    for (const value of ['"${{ params.tag }}"', "'x-${{ params.tag }}'"]) {
      const flow = pipeline(`{ image: busybox, env: { TAG: ${value} }, run: echo }`);
      expect(parsePipeline(flow, 'yaml')).toMatchObject({ ok: true });
    }
    const block = pipeline('\n    image: busybox:${{ params.tag }}\n    run: echo');
    expect(parsePipeline(block, 'yaml')).toMatchObject({ ok: true });
  });
});

describe('parsePipeline: YAML syntax and hostile documents', () => {
  it.each([
    [
      'kind: Pipeline\njobs:\n   a: x\n  b: y\n',
      4,
      3,
      'invalid YAML: bad indentation of a mapping entry',
    ],
    ['kind: Pipeline\njobs:\n  a: {}\n  a: {}\n', 4, 3, 'invalid YAML: duplicated mapping key'],
    [
      'kind: Pipeline\njobs: { a: 1\n',
      3,
      1,
      'invalid YAML: unexpected end of the stream within a flow collection',
    ],
    ['kind: Pipeline\njobs:\n  a: !shell x\n', 3, 6, 'invalid YAML: unknown tag !<!shell>'],
    [
      'kind: Pipeline\n---\njobs: {}\n',
      2,
      1,
      'a pipeline must be a single YAML document, but a second one starts here',
    ],
    ['kind: Pipeline\njobs: *nothing\n', 2, 7, 'invalid YAML: unidentified alias "nothing"'],
  ])('%j', (text, line, column, message) => {
    const error = only(parsePipeline(text, 'yaml'));
    expect(error).toEqual({
      path: '',
      message: expect.stringContaining(message) as string,
      line,
      column,
    });
  });
  it('rejects an alias bomb fast, at its first alias', () => {
    let text = 'a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]\n';
    for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) {
      text += `${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]\n`;
    }
    const started = performance.now();
    const error = only(parsePipeline(text, 'yaml'));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error).toEqual({
      path: '',
      message: 'aliases expand the document to more than 200000 values',
      line: 2,
      column: 8,
    });
  });
  it('rejects documents nested deeper than 64 levels, without overflowing the stack', () => {
    const deep = 'kind: Pipeline\njobs:\n  a:\n    run: ' + '['.repeat(50_000);
    expect(only(parsePipeline(deep, 'yaml'))).toEqual({
      path: '',
      message: 'the document is nested deeper than 64 levels',
      line: 4,
      column: 71,
    });
    const block =
      Array.from({ length: 70 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' x\n';
    expect(only(parsePipeline(block, 'yaml')).message).toBe(
      'the document is nested deeper than 64 levels',
    );
    expect(only(parsePipeline('['.repeat(50_000), 'json'))).toEqual({
      path: '',
      message: 'invalid JSON: the document is nested deeper than 64 levels',
      line: 1,
      column: 65,
    });
    // 64 levels are fine as far as nesting goes (and then simply not a pipeline)
    for (const format of ['json', 'yaml'] as const) {
      const text = '['.repeat(64) + ']'.repeat(64);
      expect(only(parsePipeline(text, format)).message).toBe('the pipeline must be an object');
    }
  });
  it('counts entries and values as it reads: one map or list of more than 10,000 entries, or more than 200,000 values, is refused where it starts', () => {
    const env = (n: number) => Array.from({ length: n }, (_, i) => `      K${i}: v`).join('\n');
    const yaml = (n: number) =>
      `kind: Pipeline\njobs:\n  a:\n    image: x\n    run: y\n    env:\n${env(n)}\n`;
    expect(only(parsePipeline(yaml(10_001), 'yaml'))).toEqual({
      path: '',
      message: 'a map or list has more than 10000 entries',
      line: 7,
      column: 7,
    });
    // 10,000 entries are counted through, and left to the schema (200 variables at most)
    expect(only(parsePipeline(yaml(10_000), 'yaml')).message).toContain('at most 200');
    const keys = Array.from({ length: 10_001 }, (_, i) => `"K${i}":"v"`).join(',');
    expect(
      only(parsePipeline(`{"kind":"Pipeline","jobs":{"a":{"env":{${keys}}}}}`, 'json')).message,
    ).toBe('invalid JSON: an object has more than 10000 keys');
    const list = `[${Array(10_001).fill('0').join(',')}]`;
    expect(only(parsePipeline(list, 'json')).message).toBe(
      'invalid JSON: an array has more than 10000 items',
    );
    const values = `[${Array.from({ length: 21 }, () => `[${Array(10_000).fill('0').join(',')}]`).join(',')}]`;
    expect(only(parsePipeline(values, 'json')).message).toBe(
      'invalid JSON: the document has more than 200000 values',
    );
    expect(only(parsePipeline(values, 'yaml')).message).toBe(
      'the document has more than 200000 values',
    );
    // Large documents, on machines that may be shared: a generous limit, not a measure.
  }, 60_000);
  it('refuses a pipeline over the job limit with that one error, before checking its jobs', () => {
    const jobs = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`J_${i}`, { image: 1, dependsOn: [{ job: 'x' }] }]),
    );
    expect(located(parsePipeline(JSON.stringify({ kind: 'Pipeline', jobs }), 'json'))).toEqual([
      '1:20 jobs: 3000 jobs exceed the limit of 1000',
    ]);
    expect(
      located(
        parsePipeline(JSON.stringify({ pipeline: { kind: 'Pipeline', jobs } }), 'json', {
          submission: true,
          maxJobs: 2999,
        }),
      ),
    ).toEqual(['1:32 pipeline.jobs: 3000 jobs exceed the limit of 2999']);
  });
  it('locates the errors of a JSON document by its own text (keys, values, list items, escapes)', () => {
    const text =
      '{"kind": "Pipeline",\n "jobs": {"a\\u0062": {"image": 5, "run": "x"},\n  "c": {"image": "x", "run": "y", "dependsOn": [{"job": "z"}, {"job": "c"}]}}}';
    expect(located(parsePipeline(text, 'json'))).toEqual([
      '2:32 jobs.ab.image: must be a string',
      '3:57 jobs.c.dependsOn[0].job: unknown job "z"',
      '3:71 jobs.c.dependsOn[1].job: job "c" depends on itself',
    ]);
  });
  it('reads a plain << as a merge key and a quoted "<<" as an ordinary key', () => {
    expect(only(parsePipeline('<<: false\n', 'yaml')).message).toBe(
      'invalid YAML: cannot merge mappings; the provided source object is unacceptable',
    );
    const text = '"<<": false\nkind: Pipeline\njobs: { a: { image: x, run: y } }\n';
    expect(located(parsePipeline(text, 'yaml'))).toEqual(['1:1 unknown field "<<"']);
  });
  it('reads plain scalars as the core schema of YAML 1.2 does', () => {
    const scalars = ['true', 'True', 'TRUE', 'yes', 'on', 'n', '~', 'null', 'NULL', '', '0', '-12'];
    scalars.push('+7', '007', '0o17', '0x1F', '0b101', '1_000', '1.5', '.5', '1.', '-1e3', '1E+2');
    scalars.push('.inf', '-.Inf', '.NaN', '12:30', '2001-12-14', '0xZZ', '"5"', "'true'", '<<x');
    const text = scalars.map((scalar, i) => `k${i}: ${scalar}`).join('\n');
    const read = readYaml(text, { maxDepth: 64, maxEntries: 100, maxNodes: 1000 });
    expect(read.ok && read.value).toEqual(parse(text, { version: '1.2', schema: 'core' }));
  });
  it('reads YAML 1.2: yes/on are strings, not booleans', () => {
    const text =
      'kind: Pipeline\njobs:\n  a: {image: x, run: y}\n  b: {image: x, run: y, dependsOn: [{job: a, conditions: {failure: on}}]}\n';
    expect(located(parsePipeline(text, 'yaml'))).toEqual([
      '4:68 jobs.b.dependsOn[0].conditions.failure: must be a boolean (true or false)',
    ]);
  });
});

describe('parsePipeline: properties', () => {
  it('never throws, on any text', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.constantFrom('json' as const, 'yaml' as const),
        (text, format) => {
          const result = parsePipeline(text, format);
          if (!result.ok) expect(result.errors.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
  it('reports for a JSON or YAML text what validatePipeline reports for its value, located', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        const expected = validatePipeline(value);
        for (const [text, format] of [
          [JSON.stringify(value, null, 1), 'json'],
          [yamlText(value), 'yaml'],
        ] as const) {
          const result = parsePipeline(text, format);
          expect(result.ok).toBe(expected.ok);
          if (result.ok || expected.ok) continue;
          expect(result.errors.map(({ path, message }) => ({ path, message }))).toEqual(
            expected.errors,
          );
          for (const e of result.errors)
            expect(e.line !== undefined && e.column !== undefined).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
