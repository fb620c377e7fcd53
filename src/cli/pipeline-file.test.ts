import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { formatDetail, formatLocated } from './error-lines.ts';
import {
  checkPipelineSource,
  detectFormat,
  readPipelineSource,
  withLabels,
} from './pipeline-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'chainr-cli-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const VALID = 'kind: Pipeline\njobs:\n  a: { image: busybox, run: "true" }\n';

describe('detectFormat', () => {
  it('goes by extension, else by the first character', () => {
    expect(detectFormat('p.json', 'kind: x')).toBe('json');
    expect(detectFormat('p.YML', '{}')).toBe('yaml');
    expect(detectFormat('p.yaml', '{}')).toBe('yaml');
    expect(detectFormat('<stdin>', '\uFEFF  {"kind": 1}')).toBe('json');
    expect(detectFormat('pipeline', 'kind: Pipeline')).toBe('yaml');
  });
});

describe('readPipelineSource', () => {
  it('reads a file, or stdin for -', async () => {
    const path = join(dir, 'p.yaml');
    writeFileSync(path, VALID);
    expect(await readPipelineSource(path, Readable.from([]))).toEqual({
      name: path,
      text: VALID,
      format: 'yaml',
    });
    const stdin = Readable.from([Buffer.from('{"kind":'), Buffer.from('"Pipeline"}')]);
    expect(await readPipelineSource('-', stdin)).toEqual({
      name: '<stdin>',
      text: '{"kind":"Pipeline"}',
      format: 'json',
    });
  });

  it('says why a file cannot be read', async () => {
    await expect(readPipelineSource(join(dir, 'none.yaml'), Readable.from([]))).rejects.toThrow(
      /cannot read .*none\.yaml: no such file/,
    );
    await expect(readPipelineSource(dir, Readable.from([]))).rejects.toThrow(/it is a directory/);
  });
});

describe('checkPipelineSource', () => {
  it('reports errors as file:line:column: path: message, in the order of the file', () => {
    const text = [
      'kind: Pipeline',
      'jobs:',
      '  second:',
      '    imgae: busybox',
      '    run: exit 0',
      '    dependsOn:',
      '      - job: frist',
      '  first: { image: busybox, run: exit 0 }',
    ].join('\n');
    const checked = checkPipelineSource({ name: 'p.yaml', text, format: 'yaml' });
    expect(checked).toEqual({
      ok: false,
      lines: [
        'p.yaml:3:3: jobs.second.image: is required',
        'p.yaml:4:5: jobs.second: unknown field "imgae"',
        'p.yaml:7:14: jobs.second.dependsOn[0].job: unknown job "frist" (did you mean "first"?)',
      ],
    });
  });

  it('reports a syntax error where it is', () => {
    const checked = checkPipelineSource({ name: 'p.json', text: '{\n  "kind": }', format: 'json' });
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.lines[0]).toMatch(/^p\.json:2:11: invalid JSON/);
  });

  it('merges labels over the file’s own, and checks them', () => {
    const text =
      'kind: Pipeline\nmetadata: { labels: { app: web, tier: dev } }\njobs:\n  a: { image: b, run: c }\n';
    const checked = checkPipelineSource(
      { name: 'p.yaml', text, format: 'yaml' },
      { labels: { tier: 'prod', team: 'data' } },
    );
    expect(checked.ok && checked.pipeline.metadata).toEqual({
      labels: { app: 'web', tier: 'prod', team: 'data' },
    });
    const bad = checkPipelineSource(
      { name: 'p.yaml', text, format: 'yaml' },
      { labels: { 'a b': 'x' } },
    );
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.lines[0]).toMatch(/^--label: metadata\.labels\["a b"\]: /);
  });

  it('applies the job limit it is given', () => {
    const source = { name: 'p.yaml', text: VALID, format: 'yaml' as const };
    expect(checkPipelineSource(source, { maxJobs: 1 }).ok).toBe(true);
    const over = { ...source, text: `${VALID}  b: { image: busybox, run: "true" }\n` };
    expect(checkPipelineSource(over, { maxJobs: 1 }).ok).toBe(false);
  });
});

describe('error lines', () => {
  it('with and without positions', () => {
    expect(formatLocated('f', { path: 'jobs.a', message: 'bad', line: 3, column: 7 })).toBe(
      'f:3:7: jobs.a: bad',
    );
    expect(formatLocated('f', { path: '', message: 'empty' })).toBe('f: empty');
    expect(formatDetail({ path: 'jobs.a', message: 'bad', line: 3, column: 7 })).toBe(
      'jobs.a: bad (line 3, column 7)',
    );
    expect(formatDetail({ path: 'params.x', message: 'unknown' })).toBe('params.x: unknown');
  });

  it('withLabels keeps the rest of the metadata', () => {
    const pipeline = { kind: 'Pipeline' as const, metadata: { name: 'n' }, jobs: {} };
    expect(withLabels(pipeline, { a: '1' }).metadata).toEqual({ name: 'n', labels: { a: '1' } });
  });
});
