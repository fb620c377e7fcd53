// @vitest-environment node
import { describe, expect, it } from 'vitest';
import { formatError, parsePipeline } from '../../../src/core/validate.ts';
import { EXAMPLES } from './examples.ts';
import { checkText, detectFormat, errorsByLine, offsetOf, positionText } from './validation.ts';

const withTypo = `kind: Pipeline
jobs:
  first:
    image: busybox
    run: exit 0
  error:
    image: busybox
    run: exit 0
    dependsOn:
      - job: frist
`;

describe('checkText', () => {
  it('gives the API validator’s own messages, at the line of the problem', () => {
    const checked = checkText(withTypo);
    expect(checked.format).toBe('yaml');
    expect(checked.pipeline).toBeUndefined();
    expect(checked.errors).toHaveLength(1);
    const [error] = checked.errors;
    expect(error?.line).toBe(10);
    expect(error?.path).toBe('jobs.error.dependsOn[0].job');
    expect(error?.message).toMatch(/unknown job "frist"/);
    // Exactly what the server answers for the same text.
    const server = parsePipeline(withTypo, 'yaml');
    expect(server.ok ? [] : server.errors.map(formatError)).toEqual(
      checked.errors.map(formatError),
    );
  });

  it('reads JSON when the text starts like JSON, and keeps a draft to preview when invalid', () => {
    const checked = checkText('{"kind": "Pipeline", "jobs": {"a": {"image": "x"}}}');
    expect(checked.format).toBe('json');
    expect(checked.errors.map((e) => e.path)).toEqual(['jobs.a']);
    expect(checked.draft).toMatchObject({ jobs: { a: { image: 'x' } } });
  });

  it('locates syntax errors too', () => {
    const checked = checkText('kind: Pipeline\njobs:\n  a: [unclosed\n');
    expect(checked.errors[0]?.line).toBeGreaterThanOrEqual(3);
    expect(checked.draft).toBeUndefined();
  });

  it('passes the job limit on', () => {
    expect(checkText(withTypo.replace('frist', 'first'), 1).errors[0]?.message).toMatch(/1/);
  });

  it('accepts every example offered on the Submit page', () => {
    for (const example of EXAMPLES) expect(checkText(example.text).errors, example.id).toEqual([]);
  });
});

describe('helpers', () => {
  it('detects the format from the first character', () => {
    expect(detectFormat('  \n{')).toBe('json');
    expect(detectFormat('\uFEFF[')).toBe('json');
    expect(detectFormat('kind: Pipeline')).toBe('yaml');
    expect(detectFormat('')).toBe('yaml');
  });

  it('groups errors by line, leaving out those without one', () => {
    const byLine = errorsByLine([
      { path: 'a', message: 'x', line: 3 },
      { path: 'b', message: 'y', line: 3 },
      { path: '', message: 'z' },
    ]);
    expect([...byLine.keys()]).toEqual([3]);
    expect(byLine.get(3)).toHaveLength(2);
  });

  it('finds the offset of a line and column, clamped to the text', () => {
    const text = 'ab\ncdef\ng';
    expect(offsetOf(text, 1, 1)).toBe(0);
    expect(offsetOf(text, 2, 3)).toBe(5);
    expect(offsetOf(text, 2, 99)).toBe(7);
    expect(offsetOf(text, 9, 1)).toBe(text.length);
  });

  it('writes positions for people', () => {
    expect(positionText({ path: '', message: '', line: 7, column: 12 })).toBe('line 7, column 12');
    expect(positionText({ path: '', message: '' })).toBe('');
  });
});
