import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonSyntax } from './json-syntax.ts';
import { only } from './testing.fixture.ts';
import { parsePipeline } from './validate.ts';

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('parsePipeline: JSON syntax', () => {
  it.each([
    ['{"kind": "Pipeline",\n "jobs": }', 2, 10, 'expected a value but found "}"'],
    [
      '{"jobs": {"a": {"image": "x",}}}',
      1,
      30,
      'expected a key in double quotes but found "}" (a trailing comma is not allowed)',
    ],
    [
      '{"jobs": [1, 2,]}',
      1,
      16,
      'expected a value but found "]" (a trailing comma is not allowed)',
    ],
    ['{"kind": "Pipe', 1, 10, 'unterminated string'],
    ["{'kind': 1}", 1, 2, 'expected a key in double quotes but found "\'"'],
    ['{"kind" "Pipeline"}', 1, 9, 'expected \':\' after a key but found "\\""'],
    ['{"kind": "Pipeline"}\n{}', 2, 1, 'unexpected "{" after the end of the document'],
    ['{"a": 1 "b": 2}', 1, 9, "expected ',' or '}' but found \"\\\"\""],
    ['// comment\n{}', 1, 1, 'expected a value but found "/"'],
    ['{"a": tru}', 1, 7, 'expected a value but found "t"'],
    ['{"a": "\\x"}', 1, 8, 'invalid escape \\x in a string'],
    ['{"a": "\\u12"}', 1, 8, 'invalid \\u escape in a string'],
    ['{"a": "line\nbreak"}', 1, 12, 'control character in a string (escape it, e.g. \\n)'],
    ['{"a": [1, {"b": ', 1, 17, 'unexpected end of the document'],
    ['{"jobs": {\n  "a": {},\n  "a": {}\n}}', 3, 3, 'duplicate key "a"'],
  ])('%j', (text, line, column, message) => {
    // every case is invalid JSON, except duplicate keys, which JSON.parse lets through
    expect(isJson(text)).toBe(message.startsWith('duplicate'));
    expect(only(parsePipeline(text, 'json'))).toEqual({
      path: '',
      message: `invalid JSON: ${message}`,
      line,
      column,
    });
  });
  it('says so when the document is empty', () => {
    for (const format of ['json', 'yaml'] as const) {
      for (const text of ['', '  \n', '\uFEFF']) {
        expect(only(parsePipeline(text, format)).message).toBe('the document is empty');
      }
    }
    expect(only(parsePipeline('# nothing\n', 'yaml')).message).toBe('the document is empty');
  });
  it('agrees with JSON.parse on random texts (besides duplicate keys)', () => {
    const texts = fc.oneof(
      fc.string({ unit: fc.constantFrom(...'{}[]:,"\\ \n0123456789-.eEtrufalsn') }),
      fc
        .json()
        .chain((json) =>
          fc
            .tuple(fc.nat(json.length), fc.string({ maxLength: 2 }))
            .map(([at, s]) => json.slice(0, at) + s + json.slice(at)),
        ),
    );
    fc.assert(
      fc.property(texts, (text) => {
        const problem = checkJsonSyntax(text, { maxDepth: Infinity });
        const valid = isJson(text);
        if (!valid) expect(problem).toBeDefined();
        if (valid && problem) expect(problem.message).toMatch(/^duplicate key/);
      }),
      { numRuns: 2000 },
    );
  });
});
